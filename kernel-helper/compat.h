/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What differs between the kernels kmigrated builds against (Debian's 6.1,
 * 6.12 and 7.3 so far), kept in this one file.
 *
 * Where the difference is a macro, its presence is tested rather than
 * LINUX_VERSION_CODE: stable and distribution kernels backport such macros
 * independently of their version number. Where it is the prototype of a
 * function the headers declare, the declaration itself is tested, at
 * compile time (see kmig_get_dev_pagemap()).
 */
#ifndef KMIGRATED_COMPAT_H
#define KMIGRATED_COMPAT_H

#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/compiler.h>

/*
 * BPF programs find kfuncs through BTF, and a module's kfuncs through the
 * module's own BTF: without these the module would load but be unusable.
 */
#if !IS_ENABLED(CONFIG_BPF_SYSCALL) || !IS_ENABLED(CONFIG_DEBUG_INFO_BTF_MODULES)
#error "kmigrated needs CONFIG_BPF_SYSCALL=y and CONFIG_DEBUG_INFO_BTF_MODULES=y"
#endif

/* Kfunc definition markers; 6.1 has neither. */
#ifndef __bpf_kfunc
#define __bpf_kfunc __used __noclone noinline
#endif

#ifndef __bpf_kfunc_start_defs
#define __bpf_kfunc_start_defs()						\
	__diag_push();								\
	__diag_ignore_all("-Wmissing-prototypes",				\
			  "Global kfuncs as their definitions will be in BTF")
#define __bpf_kfunc_end_defs() __diag_pop()
#endif

/*
 * Kfunc sets: newer kernels flag the set (BTF_SET8_KFUNCS) and refuse to
 * register one without the flag; 6.1 has only the plain BTF_SET8 form.
 */
#ifndef BTF_KFUNCS_START
#define BTF_KFUNCS_START(name) BTF_SET8_START(name)
#define BTF_KFUNCS_END(name) BTF_SET8_END(name)
#endif

/*
 * Non-exported mm functions the pfn route calls through pointers resolved
 * at load (syms.c). Their prototypes changed between 6.1 and 6.12, and a
 * pointer of the wrong type would be called silently wrong, so the
 * version is tested here (folio_isolate_lru() is declared in mm/internal.h,
 * which no headers package carries, so there is no declaration to test).
 * Both were checked against the BTF of Debian's 6.1, 6.12 and 7.3 (7.3's
 * migrate_pages() takes an enum migrate_reason where 6.12's takes an int:
 * the same in the ABI); the boundaries in between are the upstream
 * releases that changed them, as far as known, and need a look before
 * building for a kernel other than those three:
 *  - folio_isolate_lru() returns int (0 or -EBUSY) on 6.1, bool (true on
 *    success) since 6.4;
 *  - migrate_pages() takes new_page_t / free_page_t callbacks (struct
 *    page) on 6.1, new_folio_t / free_folio_t (struct folio) since 6.5.
 */
#include <linux/version.h>
#include <linux/migrate.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define KMIG_ISOLATE_RETURNS_BOOL 1
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define KMIG_MIGRATE_FOLIO_CALLBACKS 1
#endif

/*
 * Page-table walkers say which mmap lock they take since 6.5; that is an
 * enum, so there is nothing to test but the version.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define KMIG_WALK_OPS_LOCK 1
#endif

/*
 * get_dev_pagemap() takes a pgmap to reuse as its second argument on 6.1
 * and 6.12, and only the pfn on newer kernels (6.18, 7.3). The helper
 * whose parameter has the declared type of get_dev_pagemap is picked at
 * compile time, and only that helper is called: the other is never
 * type-checked against it. A third form fails to compile here.
 */
#include <linux/memremap.h>

typedef struct dev_pagemap *(*kmig_get_dev_pagemap1_t)(unsigned long pfn);
typedef struct dev_pagemap *(*kmig_get_dev_pagemap2_t)(unsigned long pfn,
						       struct dev_pagemap *pgmap);

static inline struct dev_pagemap *kmig_get_dev_pagemap1(kmig_get_dev_pagemap1_t fn,
							unsigned long pfn)
{
	return fn(pfn);
}

static inline struct dev_pagemap *kmig_get_dev_pagemap2(kmig_get_dev_pagemap2_t fn,
							unsigned long pfn)
{
	return fn(pfn, NULL);
}

#define kmig_get_dev_pagemap(pfn)							\
	__builtin_choose_expr(__same_type(&get_dev_pagemap, kmig_get_dev_pagemap1_t),	\
			      kmig_get_dev_pagemap1,					\
			      kmig_get_dev_pagemap2)(get_dev_pagemap, pfn)

#endif /* KMIGRATED_COMPAT_H */
