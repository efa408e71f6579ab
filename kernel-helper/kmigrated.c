// SPDX-License-Identifier: GPL-2.0
/*
 * kmigrated: hotpage's kernel helper.
 *
 * hotpage's daemon decides which pages are hot; BPF programs hand its
 * requests to this module through kfuncs. The module is to grow into the
 * migration helper of the design (requests queued per target node and
 * migrated in batches by kthreads kmigrated<nid>); for now it provides the
 * frame that work goes into:
 *
 *  - a kfunc set registered for syscall and tracing programs, with one
 *    kfunc, kmigrated_ping(), that proves the path works;
 *  - statistics, read-only, in /sys/kernel/mm/kmigrated/;
 *  - a refusal to load without module BTF, since BPF programs would then
 *    fail to find the kfuncs in ways that are hard to trace back here.
 *
 * The interface (kfunc semantics, sysfs names) is in include/kmigrated.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/sysfs.h>

#include "compat.h"
#include "kmigrated.h"

/* Statistics: updated locklessly, shown in /sys/kernel/mm/kmigrated/. */
struct kmigrated_stats {
	atomic64_t kfunc_calls;
};

static struct kmigrated_stats kmigrated_stats;

/* ------------------------------------------------------------- kfuncs */

__bpf_kfunc_start_defs();

/**
 * kmigrated_ping - check that a BPF program reaches this module
 * @cookie: any value chosen by the caller
 *
 * Counts the call in kfunc_calls. Callable from syscall and tracing
 * programs, sleepable or not.
 *
 * Return: @cookie ^ KMIGRATED_PING_MAGIC.
 */
__bpf_kfunc u64 kmigrated_ping(u64 cookie)
{
	atomic64_inc(&kmigrated_stats.kfunc_calls);
	return cookie ^ KMIGRATED_PING_MAGIC;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(kmigrated_kfunc_ids)
BTF_ID_FLAGS(func, kmigrated_ping)
BTF_KFUNCS_END(kmigrated_kfunc_ids)

static const struct btf_kfunc_id_set kmigrated_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &kmigrated_kfunc_ids,
};

/*
 * Syscall programs are how the daemon submits work (run with
 * BPF_PROG_TEST_RUN); tracing (fentry/fexit) programs may call in from
 * the hotness sources.
 */
static const enum bpf_prog_type kmigrated_kfunc_prog_types[] = {
	BPF_PROG_TYPE_SYSCALL,
	BPF_PROG_TYPE_TRACING,
};

/*
 * There is no way to unregister a kfunc set: it goes away with the
 * module's BTF when the module is unloaded, and a loaded BPF program that
 * uses one of the kfuncs holds a reference on the module.
 */
static int __init kmigrated_register_kfuncs(void)
{
	unsigned int i;
	int err;

	for (i = 0; i < ARRAY_SIZE(kmigrated_kfunc_prog_types); i++) {
		err = register_btf_kfunc_id_set(kmigrated_kfunc_prog_types[i],
						&kmigrated_kfunc_set);
		if (err) {
			pr_err("cannot register kfuncs for BPF program type %d: %d\n",
			       kmigrated_kfunc_prog_types[i], err);
			return err;
		}
	}
	return 0;
}

/*
 * Without a .BTF section the kernel loads the module, and even reports
 * success for register_btf_kfunc_id_set() (it only logs "missing module
 * BTF"), but no BPF program can then find the kfuncs. Refuse to load
 * instead, with -ENOEXEC ("Invalid module format" from insmod/modprobe):
 * the module file is unusable as built.
 */
static int __init kmigrated_check_btf(void)
{
	if (THIS_MODULE->btf_data_size)
		return 0;
	pr_err("module has no BTF (.BTF section); rebuild it with the kernel's vmlinux next to its headers (Kbuild skips module BTF without it; see 'make kmod')\n");
	return -ENOEXEC;
}

/* -------------------------------------------------------------- sysfs */

static ssize_t kfunc_calls_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%llu\n", (u64)atomic64_read(&kmigrated_stats.kfunc_calls));
}

static struct kobj_attribute kfunc_calls_attr = __ATTR_RO(kfunc_calls);

static struct attribute *kmigrated_attrs[] = {
	&kfunc_calls_attr.attr,
	NULL,
};

static const struct attribute_group kmigrated_attr_group = {
	.attrs = kmigrated_attrs,
};

static struct kobject *kmigrated_kobj;

/*
 * /sys/kernel/mm is mm_kobj, which is no longer exported to modules (6.12
 * has no export; 6.1 still has one). Find it through sysfs instead: the
 * kernfs node of a kobject's directory has the kobject as private data.
 * Returns a counted reference, or NULL.
 */
static struct kobject *__init kmigrated_get_mm_kobj(void)
{
	struct kobject *kobj = NULL;
	struct kernfs_node *kn;

	kn = sysfs_get_dirent(kernel_kobj->sd, "mm");
	if (!kn)
		return NULL;
	if (kernfs_type(kn) == KERNFS_DIR && kn->priv)
		kobj = kobject_get(kn->priv);
	kernfs_put(kn);
	return kobj;
}

static int __init kmigrated_sysfs_init(void)
{
	struct kobject *mm;
	int err;

	mm = kmigrated_get_mm_kobj();
	if (!mm) {
		pr_err("cannot find /sys/kernel/mm\n");
		return -ENOENT;
	}
	/* The new kobject takes its own reference on its parent. */
	kmigrated_kobj = kobject_create_and_add(KMIGRATED_MODULE_NAME, mm);
	kobject_put(mm);
	if (!kmigrated_kobj)
		return -ENOMEM;

	err = sysfs_create_group(kmigrated_kobj, &kmigrated_attr_group);
	if (err) {
		kobject_put(kmigrated_kobj);
		kmigrated_kobj = NULL;
	}
	return err;
}

/* Removes the directory and its files; readers are drained by kernfs. */
static void kmigrated_sysfs_exit(void)
{
	kobject_put(kmigrated_kobj);
	kmigrated_kobj = NULL;
}

/* ------------------------------------------------------------- module */

static int __init kmigrated_init(void)
{
	int err;

	err = kmigrated_check_btf();
	if (err)
		return err;

	err = kmigrated_sysfs_init();
	if (err)
		return err;

	/* Last: once registered, BPF programs may call in. */
	err = kmigrated_register_kfuncs();
	if (err)
		goto err_sysfs;

	pr_info("ready: kfuncs for syscall and tracing programs, statistics in %s\n",
		KMIGRATED_SYSFS_DIR);
	return 0;

err_sysfs:
	kmigrated_sysfs_exit();
	return err;
}

static void __exit kmigrated_exit(void)
{
	kmigrated_sysfs_exit();
}

module_init(kmigrated_init);
module_exit(kmigrated_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotpage kernel helper: kfuncs for BPF-driven page promotion");
