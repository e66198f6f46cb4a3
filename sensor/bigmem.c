/*
 * bigmem.c - zeroed, lazily resident, huge-page-advised table memory.
 *
 * For huge pages the mapping must start on a 2 MiB boundary, which mmap
 * does not promise: map 2 MiB more than asked, then unmap the unaligned
 * head and the unused tail.  The advice is only advice; where transparent
 * huge pages are off, the tables simply use 4 KiB pages.
 */
#include "bigmem.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>

#define SN_BIGMEM_HUGE ((size_t)2 << 20)

/* The size actually mapped: whole pages (mmap rounds up anyway). */
static size_t mapped_size(size_t bytes)
{
	return (bytes + 4095) & ~(size_t)4095;
}

static void *map_aligned(size_t len)
{
	size_t extra = SN_BIGMEM_HUGE;
	uint8_t *raw = mmap(NULL, len + extra, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	uintptr_t start = ((uintptr_t)raw + extra - 1) & ~(uintptr_t)(extra - 1);
	size_t head = (size_t)(start - (uintptr_t)raw);
	if (head)
		munmap(raw, head);
	if (extra - head)
		munmap((uint8_t *)start + len, extra - head);
	return (void *)start;
}

void *sn_bigmem_alloc(size_t bytes)
{
	if (bytes == 0 || bytes > SIZE_MAX / 2) {
		errno = bytes ? ENOMEM : EINVAL;
		return NULL;
	}
	size_t len = mapped_size(bytes);
	if (len < SN_BIGMEM_HUGE) {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		return p == MAP_FAILED ? NULL : p;
	}
	void *p = map_aligned(len);
	if (p)
		(void)madvise(p, len, MADV_HUGEPAGE); /* advice: failure changes nothing */
	return p;
}

void *sn_bigmem_alloc_sparse(size_t bytes)
{
	if (bytes == 0 || bytes > SIZE_MAX / 2) {
		errno = bytes ? ENOMEM : EINVAL;
		return NULL;
	}
	size_t len = mapped_size(bytes);
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_NOHUGEPAGE
	(void)madvise(p, len, MADV_NOHUGEPAGE); /* advice: failure changes nothing */
#endif
	return p;
}

void sn_bigmem_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, mapped_size(bytes));
}
