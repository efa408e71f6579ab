// SPDX-License-Identifier: GPL-2.0
/*
 * The pfn route needs mm functions that are not exported to modules
 * (folio_isolate_lru, migrate_pages, putback_movable_pages), and so does
 * the accessed-bit scanner (walk_page_range, flush_tlb_mm_range). They are
 * looked up once, at load, with kallsyms_lookup_name(), itself not
 * exported either: a kprobe on it tells its address.
 *
 * A function found this way is called through a pointer. Where the CPU
 * enforces indirect branch tracking (IBT) such a call faults unless the
 * function begins with ENDBR, which objtool removes from functions the
 * kernel never calls indirectly; those count as not found.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kprobes.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"

#ifdef CONFIG_X86_KERNEL_IBT
#include <asm/ibt.h>
#endif

struct kmig_syms kmig_sym;

typedef unsigned long (*kmig_kallsyms_fn)(const char *name);

/*
 * Whether @addr holds ENDBR64 itself. Not is_endbr(): that also accepts
 * the poison which seals the ENDBR of a function the kernel never calls
 * indirectly (such a function faults when called through a pointer), and
 * on 7.3 it is out of line, takes a pointer and is not exported.
 */
static bool kmig_starts_with_endbr(unsigned long addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	u32 insn;

	if (get_kernel_nofault(insn, (u32 *)addr))
		return false;
	return insn == gen_endbr();
#else
	return false;
#endif
}

/* Whether an indirect call to @addr is allowed. */
static bool kmig_callable(unsigned long addr)
{
#ifdef CONFIG_X86_KERNEL_IBT
	if (cpu_feature_enabled(X86_FEATURE_IBT))
		return kmig_starts_with_endbr(addr);
#endif
	return true;
}

static kmig_kallsyms_fn kmig_find_kallsyms(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long addr;
	int err;

	err = register_kprobe(&kp);
	if (err) {
		pr_warn("cannot find kallsyms_lookup_name (register_kprobe: %d)\n", err);
		return NULL;
	}
	addr = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	/* With IBT built in, kprobes sit after the function's ENDBR. */
	if (IS_ENABLED(CONFIG_X86_KERNEL_IBT) && kmig_starts_with_endbr(addr - 4))
		addr -= 4;
	if (!kmig_callable(addr)) {
		pr_warn("kallsyms_lookup_name cannot be called indirectly (IBT)\n");
		return NULL;
	}
	return (kmig_kallsyms_fn)addr;
}

static kmig_kallsyms_fn kmig_kallsyms;
static bool kmig_kallsyms_tried;

/**
 * kmig_lookup - address of a kernel function the module may call
 * @name: its name
 * @fail_symbol: a symbol to treat as missing (testing), or NULL
 *
 * Return: the address, or 0 when it is not found or not callable.
 */
static unsigned long kmig_lookup(const char *name, const char *fail_symbol)
{
	unsigned long addr;

	if (!kmig_kallsyms_tried) {
		kmig_kallsyms = kmig_find_kallsyms();
		kmig_kallsyms_tried = true;
	}
	if (!kmig_kallsyms || (fail_symbol && !strcmp(fail_symbol, name)))
		return 0;
	addr = kmig_kallsyms(name);
	if (addr && !kmig_callable(addr)) {
		pr_warn("%s cannot be called indirectly (IBT)\n", name);
		addr = 0;
	}
	return addr;
}

/* Looks up @nr names into @addrs; on failure sets *@missing and returns -ENOENT. */
static int kmig_lookup_all(const char *const *names, unsigned long *addrs, unsigned int nr,
			   const char *fail_symbol, const char **missing)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		addrs[i] = kmig_lookup(names[i], fail_symbol);
		if (!addrs[i]) {
			*missing = kmig_kallsyms ? names[i] : "kallsyms_lookup_name";
			return -ENOENT;
		}
	}
	return 0;
}

/**
 * kmig_resolve_symbols - find the pfn route's functions
 * @fail_symbol: a symbol to treat as missing (testing), or NULL
 * @missing: set to the name of the first symbol not found
 *
 * Return: 0 when all were found, -ENOENT otherwise (kmig_sym's pfn-route
 * pointers are then NULL).
 */
int kmig_resolve_symbols(const char *fail_symbol, const char **missing)
{
	static const char *const names[] = {
		"folio_isolate_lru",
		"migrate_pages",
		"putback_movable_pages",
	};
	static const char *const drain[] = { "lru_add_drain" };
	unsigned long addrs[ARRAY_SIZE(names)];

	if (kmig_lookup_all(names, addrs, ARRAY_SIZE(names), fail_symbol, missing))
		return -ENOENT;
	kmig_sym.folio_isolate_lru = (void *)addrs[0];
	kmig_sym.migrate_pages = (void *)addrs[1];
	kmig_sym.putback_movable_pages = (void *)addrs[2];
	/* Optional: without it, migrated folios reach their LRU a batch later. */
	if (!kmig_lookup_all(drain, addrs, 1, fail_symbol, missing))
		kmig_sym.lru_add_drain = (void *)addrs[0];
	*missing = NULL;
	return 0;
}

/**
 * kmig_resolve_scan_symbols - find the scanner's functions
 * @fail_symbol: a symbol to treat as missing (testing), or NULL
 * @missing: set to the name of the first symbol not found
 *
 * Return: 0 or -ENOENT, as kmig_resolve_symbols().
 */
int kmig_resolve_scan_symbols(const char *fail_symbol, const char **missing)
{
	static const char *const names[] = {
		"walk_page_range",
		"flush_tlb_mm_range",
	};
	unsigned long addrs[ARRAY_SIZE(names)];

	if (kmig_lookup_all(names, addrs, ARRAY_SIZE(names), fail_symbol, missing))
		return -ENOENT;
	kmig_sym.walk_page_range = (void *)addrs[0];
	kmig_sym.flush_tlb_mm_range = (void *)addrs[1];
	return 0;
}
