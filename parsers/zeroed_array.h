/*
 * zeroed_array.h: a zeroed array whose pages are really there from the start.
 *
 * calloc hands out untouched pages. The first read of one maps the kernel's
 * shared zero page, and the first write then replaces that mapping: with
 * several threads in the process that is a TLB shoot-down, an interrupt to
 * each other CPU running one of them (in a virtual machine, an exit each).
 * Hash bucket arrays are read by lookups long before each page is written,
 * so every page of them cost one such round (issue 17: 2% of the CPU time
 * with two workers, all of it on their critical path). Writing each page once
 * as the array is made maps it for good without one (nothing was mapped
 * before); the memory is what the table holds once in use anyway.
 */
#ifndef TLSOBS_ZEROED_ARRAY_H
#define TLSOBS_ZEROED_ARRAY_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

static inline void *zeroed_array(size_t n, size_t size)
{
	volatile uint8_t *p = calloc(n, size);
	for (size_t i = 0; p && i < n * size; i += 4096)
		p[i] = 0; /* volatile: not a store the compiler may drop as already zero */
	return (void *)(uintptr_t)p;
}

#endif
