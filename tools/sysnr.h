/* SPDX-License-Identifier: MIT */
/* System call numbers newer than the C library's headers of Debian 12 (x86_64). */
#ifndef UVMA_SYSNR_H
#define UVMA_SYSNR_H

#include <sys/syscall.h>

#ifndef SYS_mseal
#define SYS_mseal 462	/* Linux 6.10 */
#endif

#endif
