/* SPDX-License-Identifier: MIT */
/*
 * Growing an array by one element, for the tools' tables (processes,
 * threads, open files, fds, reports).
 */
#ifndef UVMA_ARRAY_H
#define UVMA_ARRAY_H

#include <stdlib.h>
#include <string.h>

/*
 * Make room for one more element in the array whose pointer is at @arrp,
 * @n elements used of *@cap (doubling from 16).  0, or -1 with the array
 * as it was.
 */
static inline int array_grow(void *arrp, int n, int *cap, size_t size)
{
	void *arr, *na;
	int ncap;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	memcpy(&arr, arrp, sizeof(arr));
	na = realloc(arr, (size_t)ncap * size);
	if (!na)
		return -1;
	memcpy(arrp, &na, sizeof(na));
	*cap = ncap;
	return 0;
}

#endif
