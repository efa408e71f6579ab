// SPDX-License-Identifier: GPL-2.0
/*
 * kmigrated: hotpage's kernel helper.
 *
 * hotpage's daemon decides which pages are hot; BPF programs hand its
 * requests to this module through kfuncs (queue.c), which check each one
 * and queue it per node; one kthread per node with memory, kmigrated<nid>,
 * migrates them in batches (migrate.c) by one of two routes: by PFN with
 * the kernel's own isolate + migrate_pages (functions resolved at load,
 * syms.c), or by (process, address) with the exported migrate_vma_* API.
 *
 * A third service, the accessed-bit scanner (scan.c), reports accessed
 * pages through a tracepoint, as a hotness source.
 *
 * This file: module parameters, the sysfs directory
 * /sys/kernel/mm/kmigrated/ and node<N>/ under it, load and unload. The
 * interface (kfuncs, request record, result codes, counter names) is in
 * include/kmigrated.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/kernfs.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/nodemask.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "internal.h"

/* ---------------------------------------------------------- settings */

/**
 * DOC: Module parameters
 *
 * batch_size, rate_limit_mbps, large_folios, scan_period_ms and scan_pages
 * may be changed while the module runs, in /sys/module/kmigrated/parameters/
 * and, all but large_folios, in /sys/kernel/mm/kmigrated/; the threads
 * read them afresh for each batch or pass. queue_depth, route, scan_nodes
 * and fail_symbol size or choose what is set up at load, and are read-only
 * after it. A value out of its range is refused with -EINVAL (at load:
 * the module does not load) and the old one kept.
 */

unsigned int kmig_batch_size = 512;
unsigned int kmig_rate_limit_mbps = 65536; /* the kernel's promotion default */
unsigned int kmig_queue_depth = 16384;
bool kmig_large_folios = true;
bool kmig_route_pfn;
bool kmig_route_vma;

enum kmig_route_choice { KMIG_ROUTE_AUTO, KMIG_ROUTE_PFN, KMIG_ROUTE_VMA };
static const char *const kmig_route_names[] = { "auto", "pfn", "vma" };
static int kmig_route_choice = KMIG_ROUTE_AUTO;
static char *fail_symbol;
static char *scan_nodes;

/* Parses an unsigned number in [min, max] into *p; -EINVAL leaves *p. */
static int kmig_set_uint(const char *val, unsigned int *p, unsigned int min, unsigned int max)
{
	unsigned int v;

	if (kstrtouint(val, 0, &v) || v < min || v > max)
		return -EINVAL;
	WRITE_ONCE(*p, v);
	return 0;
}

static int batch_size_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, 1, KMIG_BATCH_LIMIT);
}

static int rate_limit_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, 0, KMIG_RATE_LIMIT_MAX);
}

static int queue_depth_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, KMIG_QUEUE_DEPTH_MIN, KMIG_QUEUE_DEPTH_MAX);
}

static int scan_period_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, KMIG_SCAN_PERIOD_MIN, KMIG_SCAN_PERIOD_MAX);
}

static int scan_pages_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, 1, KMIG_SCAN_PAGES_MAX);
}

static int scan_top_every_set(const char *val, const struct kernel_param *kp)
{
	return kmig_set_uint(val, kp->arg, 1, KMIG_SCAN_TOP_EVERY_MAX);
}

static int route_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(kmig_route_names, val);

	if (i < 0)
		return -EINVAL;
	*(int *)kp->arg = i;
	return 0;
}

static int route_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", kmig_route_names[*(int *)kp->arg]);
}

static const struct kernel_param_ops batch_size_ops = {
	.set = batch_size_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops rate_limit_ops = {
	.set = rate_limit_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops queue_depth_ops = {
	.set = queue_depth_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops scan_period_ops = {
	.set = scan_period_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops scan_pages_ops = {
	.set = scan_pages_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops scan_top_every_ops = {
	.set = scan_top_every_set,
	.get = param_get_uint,
};

static const struct kernel_param_ops route_ops = {
	.set = route_set,
	.get = route_get,
};

module_param_cb(batch_size, &batch_size_ops, &kmig_batch_size, 0644);
MODULE_PARM_DESC(batch_size, "Requests a thread takes per round, 1-4096 (default 512)");
module_param_cb(rate_limit_mbps, &rate_limit_ops, &kmig_rate_limit_mbps, 0644);
MODULE_PARM_DESC(rate_limit_mbps, "Promotion rate limit in MB/s, 0 for none (default 65536)");
module_param_cb(queue_depth, &queue_depth_ops, &kmig_queue_depth, 0444);
MODULE_PARM_DESC(queue_depth,
		 "Requests queued per node at most, 64-1048576, rounded up to a power of two (default 16384)");
module_param_named(large_folios, kmig_large_folios, bool, 0644);
MODULE_PARM_DESC(large_folios, "Migrate large folios whole (Y) or skip them (N) on the pfn route");
module_param_cb(route, &route_ops, &kmig_route_choice, 0444);
MODULE_PARM_DESC(route, "auto (pfn route when its symbols resolve, and vma route), pfn or vma only");
module_param(fail_symbol, charp, 0444);
MODULE_PARM_DESC(fail_symbol, "Treat this symbol (pfn route or scanner) as unresolvable (testing)");
module_param_cb(scan_period_ms, &scan_period_ops, &kmig_scan_period_ms, 0644);
MODULE_PARM_DESC(scan_period_ms, "Accessed-bit scanner period, 10-600000 ms (default 1000)");
module_param_cb(scan_pages, &scan_pages_ops, &kmig_scan_pages, 0644);
MODULE_PARM_DESC(scan_pages, "PTEs the scanner visits per pass at most, 1-16777216 (default 262144)");
module_param_cb(scan_top_every, &scan_top_every_ops, &kmig_scan_top_every, 0644);
MODULE_PARM_DESC(scan_top_every,
		 "Sweeps per test of the top tier's pages (nodes with CPUs), 1-64 (default 1: every sweep)");
module_param(scan_nodes, charp, 0444);
MODULE_PARM_DESC(scan_nodes,
		 "Nodes whose pages the scanner tests (node list; default: every node with memory)");

/* -------------------------------------------------------------- sysfs */

static struct kobject *kmigrated_kobj;

/* The node a node<N>/ kobject stands for; NULL for the top directory. */
static struct kmig_node *kmig_kobj_node(struct kobject *kobj)
{
	int nid;

	if (kobj == kmigrated_kobj)
		return NULL;
	for (nid = 0; nid < nr_node_ids; nid++) {
		if (kmig_nodes[nid] && kmig_nodes[nid]->kobj == kobj)
			return kmig_nodes[nid];
	}
	return NULL;
}

static ssize_t kmig_stat_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf);

#define KMIG_STAT_ATTR(id, name)						\
	[KMIGRATED_STAT_##id] = __ATTR(name, 0444, kmig_stat_show, NULL),
static struct kobj_attribute kmig_stat_attrs[KMIGRATED_NR_STATS] = {
	KMIGRATED_STATS(KMIG_STAT_ATTR)
};

/* The counters' files, in both directories; filled in at load. */
static struct attribute *kmig_stat_attr_ptrs[KMIGRATED_NR_STATS + 1];

static const struct attribute_group kmig_stat_group = {
	.attrs = kmig_stat_attr_ptrs,
};

static ssize_t kmig_stat_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct kmig_node *kn = kmig_kobj_node(kobj);
	unsigned int i = attr - kmig_stat_attrs;

	if (i >= KMIGRATED_NR_STATS)
		return -EINVAL;
	return sysfs_emit(buf, "%lld\n",
			  (long long)atomic64_read(kn ? &kn->stats[i] : &kmig_stats[i]));
}

static ssize_t queued_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	struct kmig_node *kn = kmig_kobj_node(kobj);
	u64 sum = 0;
	int nid;

	if (kn)
		return sysfs_emit(buf, "%u\n", kmig_pending(kn));
	for (nid = 0; nid < nr_node_ids; nid++) {
		if (kmig_nodes[nid])
			sum += kmig_pending(kmig_nodes[nid]);
	}
	return sysfs_emit(buf, "%llu\n", sum);
}

static ssize_t route_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%s%s%s\n", kmig_route_pfn ? "pfn" : "",
			  kmig_route_pfn && kmig_route_vma ? " " : "", kmig_route_vma ? "vma" : "");
}

static ssize_t batch_size_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kmig_batch_size));
}

static ssize_t batch_size_store(struct kobject *kobj, struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	return kmig_set_uint(buf, &kmig_batch_size, 1, KMIG_BATCH_LIMIT) ?: count;
}

static ssize_t rate_limit_mbps_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kmig_rate_limit_mbps));
}

static ssize_t rate_limit_mbps_store(struct kobject *kobj, struct kobj_attribute *attr,
				     const char *buf, size_t count)
{
	return kmig_set_uint(buf, &kmig_rate_limit_mbps, 0, KMIG_RATE_LIMIT_MAX) ?: count;
}

static ssize_t scan_tgids_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return kmig_scan_tgids_show(buf);
}

static ssize_t scan_tgids_store(struct kobject *kobj, struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	return kmig_scan_tgids_store(buf) ?: count;
}

static ssize_t scan_nodes_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return kmig_scan_nodes_show(buf);
}

static ssize_t scan_period_ms_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kmig_scan_period_ms));
}

static ssize_t scan_period_ms_store(struct kobject *kobj, struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return kmig_set_uint(buf, &kmig_scan_period_ms, KMIG_SCAN_PERIOD_MIN,
			     KMIG_SCAN_PERIOD_MAX) ?: count;
}

static ssize_t scan_pages_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kmig_scan_pages));
}

static ssize_t scan_pages_store(struct kobject *kobj, struct kobj_attribute *attr,
				const char *buf, size_t count)
{
	return kmig_set_uint(buf, &kmig_scan_pages, 1, KMIG_SCAN_PAGES_MAX) ?: count;
}

static ssize_t scan_top_every_show(struct kobject *kobj, struct kobj_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(kmig_scan_top_every));
}

static ssize_t scan_top_every_store(struct kobject *kobj, struct kobj_attribute *attr,
				    const char *buf, size_t count)
{
	return kmig_set_uint(buf, &kmig_scan_top_every, 1, KMIG_SCAN_TOP_EVERY_MAX) ?: count;
}

static struct kobj_attribute queued_attr = __ATTR_RO(queued);
static struct kobj_attribute scan_tgids_attr = __ATTR_RW(scan_tgids);
static struct kobj_attribute scan_nodes_attr = __ATTR_RO(scan_nodes);
static struct kobj_attribute scan_period_ms_attr = __ATTR_RW(scan_period_ms);
static struct kobj_attribute scan_pages_attr = __ATTR_RW(scan_pages);
static struct kobj_attribute scan_top_every_attr = __ATTR_RW(scan_top_every);
static struct kobj_attribute route_attr = __ATTR_RO(route);
static struct kobj_attribute batch_size_attr = __ATTR_RW(batch_size);
static struct kobj_attribute rate_limit_mbps_attr = __ATTR_RW(rate_limit_mbps);

static struct attribute *kmig_top_attrs[] = {
	&queued_attr.attr,
	&route_attr.attr,
	&batch_size_attr.attr,
	&rate_limit_mbps_attr.attr,
	&scan_tgids_attr.attr,
	&scan_nodes_attr.attr,
	&scan_period_ms_attr.attr,
	&scan_pages_attr.attr,
	&scan_top_every_attr.attr,
	NULL,
};

static const struct attribute_group kmig_top_group = {
	.attrs = kmig_top_attrs,
};

static const struct attribute_group *kmig_top_groups[] = {
	&kmig_stat_group,
	&kmig_top_group,
	NULL,
};

static struct attribute *kmig_node_attrs[] = {
	&queued_attr.attr,
	NULL,
};

static const struct attribute_group kmig_node_group = {
	.attrs = kmig_node_attrs,
};

static const struct attribute_group *kmig_node_groups[] = {
	&kmig_stat_group,
	&kmig_node_group,
	NULL,
};

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

/* Removes node<N>/ and the directory; readers are drained by kernfs. */
static void kmigrated_sysfs_exit(void)
{
	int nid;

	for (nid = 0; kmig_nodes && nid < nr_node_ids; nid++) {
		if (kmig_nodes[nid] && kmig_nodes[nid]->kobj) {
			kobject_put(kmig_nodes[nid]->kobj);
			kmig_nodes[nid]->kobj = NULL;
		}
	}
	kobject_put(kmigrated_kobj);
	kmigrated_kobj = NULL;
}

static int __init kmigrated_sysfs_init(void)
{
	struct kobject *mm;
	char name[16];
	int err, nid, i;

	for (i = 0; i < KMIGRATED_NR_STATS; i++)
		kmig_stat_attr_ptrs[i] = &kmig_stat_attrs[i].attr;
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
	err = sysfs_create_groups(kmigrated_kobj, kmig_top_groups);
	if (err)
		goto err;
	for (nid = 0; nid < nr_node_ids; nid++) {
		struct kmig_node *kn = kmig_nodes[nid];

		if (!kn)
			continue;
		snprintf(name, sizeof(name), "node%d", nid);
		kn->kobj = kobject_create_and_add(name, kmigrated_kobj);
		if (!kn->kobj) {
			err = -ENOMEM;
			goto err;
		}
		err = sysfs_create_groups(kn->kobj, kmig_node_groups);
		if (err)
			goto err;
	}
	return 0;
err:
	kmigrated_sysfs_exit();
	return err;
}

/* ------------------------------------------------------------- module */

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

/* Decides the routes in service; fails only when route=pfn cannot be served. */
static int __init kmigrated_choose_routes(void)
{
	const char *missing = NULL;

	kmig_route_vma = kmig_route_choice != KMIG_ROUTE_PFN;
	if (kmig_route_choice == KMIG_ROUTE_VMA)
		return 0;
	if (!kmig_resolve_symbols(fail_symbol, &missing)) {
		kmig_route_pfn = true;
		return 0;
	}
	if (kmig_route_choice == KMIG_ROUTE_PFN) {
		pr_err("route=pfn, but the pfn route needs %s, which cannot be resolved\n",
		       missing);
		return -ENOENT;
	}
	pr_warn("pfn route unavailable: cannot resolve %s; serving the vma route (tgid, address) only\n",
		missing);
	return 0;
}

static int __init kmigrated_init(void)
{
	int err;

	err = kmigrated_check_btf();
	if (err)
		return err;
	err = kmigrated_choose_routes();
	if (err)
		return err;
	kmig_rate_reset();

	err = kmig_nodes_init();
	if (err)
		return err;
	err = kmig_scan_init(fail_symbol, scan_nodes);
	if (err)
		goto err_nodes;
	err = kmigrated_sysfs_init();
	if (err)
		goto err_scan;
	/* Last: once registered, BPF programs may call in. */
	err = kmig_register_kfuncs();
	if (err)
		goto err_sysfs;

	pr_info("ready: routes:%s%s, %u node threads, scanner %s, statistics in %s\n",
		kmig_route_pfn ? " pfn" : "", kmig_route_vma ? " vma" : "",
		num_node_state(N_MEMORY), kmig_sym.walk_page_range ? "on" : "off",
		KMIGRATED_SYSFS_DIR);
	return 0;

err_sysfs:
	kmigrated_sysfs_exit();
err_scan:
	kmig_scan_exit();
err_nodes:
	kmig_nodes_exit();
	return err;
}

/*
 * No BPF program can call in any more: each one that uses a kfunc holds a
 * reference on the module. Stop the threads (each finishes or puts back
 * its batch), then drop what is still queued (no page references there).
 */
static void __exit kmigrated_exit(void)
{
	kmigrated_sysfs_exit();
	kmig_scan_exit();
	kmig_nodes_exit();
	pr_info("unloaded: %lld requests dropped from the queues\n",
		(long long)atomic64_read(&kmig_stats[KMIGRATED_STAT_DROPPED]));
}

module_init(kmigrated_init);
module_exit(kmigrated_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("hotpage kernel helper: kfunc-fed, per-node, batched page promotion");
