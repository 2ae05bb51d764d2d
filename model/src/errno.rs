//! Kernel return values, printed the way a kernel developer reads them.
//!
//! The model passes `int`-style returns around as [`Ret`], as the kernel does:
//! `0`, a negative errno, or (for `request_module`) a positive wait(2) status
//! of the modprobe helper. Numbers are the x86-64 values of
//! `include/uapi/asm-generic/errno-base.h`, `errno.h` and
//! `include/linux/errno.h` (for `ERESTARTSYS`).

/// A kernel-style return value.
pub type Ret = i32;

/// Operation not permitted.
pub const EPERM: Ret = 1;
/// No such file or directory; also "unknown symbol" in `simplify_symbols`.
pub const ENOENT: Ret = 2;
/// Interrupted system call: an interrupted idempotent waiter (2124d84db293).
pub const EINTR: Ret = 4;
/// Operation would block (`EAGAIN`): `delete_module` of a module others use.
pub const EWOULDBLOCK: Ret = 11;
/// Out of memory: the 2008 `request_module` "runaway loop" return.
pub const ENOMEM: Ret = 12;
/// Device or resource busy: the name check when the old module did not go LIVE.
pub const EBUSY: Ret = 16;
/// File exists: the name check when the module is already LIVE.
pub const EEXIST: Ret = 17;
/// Invalid argument.
pub const EINVAL: Ret = 22;
/// Text file busy: `exclusive_deny_write_access` failing (9828ed3f695a).
pub const ETXTBSY: Ret = 26;
/// Resource deadlock would occur: the recursion-aware proposal's refusal.
pub const EDEADLK: Ret = 35;
/// Timer expired: `down_timeout` on the kmod semaphore.
pub const ETIME: Ret = 62;
/// Exec format error.
pub const ENOEXEC: Ret = 8;
/// No such device: what a driver's init returns when its hardware is absent.
pub const ENODEV: Ret = 19;
/// Connection timed out: what the worked-example proposal `idem-timeout`
/// returns to a waiter that gave up.
pub const ETIMEDOUT: Ret = 110;
/// Kernel-internal: a wait broken by a signal; the syscall restarts or the task dies.
pub const ERESTARTSYS: Ret = 512;

const NAMES: &[(Ret, &str)] = &[
    (EPERM, "EPERM"),
    (ENOENT, "ENOENT"),
    (EINTR, "EINTR"),
    (ENOEXEC, "ENOEXEC"),
    (EWOULDBLOCK, "EWOULDBLOCK"),
    (ENOMEM, "ENOMEM"),
    (ENODEV, "ENODEV"),
    (EBUSY, "EBUSY"),
    (EEXIST, "EEXIST"),
    (EINVAL, "EINVAL"),
    (ETXTBSY, "ETXTBSY"),
    (EDEADLK, "EDEADLK"),
    (ETIME, "ETIME"),
    (ETIMEDOUT, "ETIMEDOUT"),
    (ERESTARTSYS, "ERESTARTSYS"),
];

/// Every errno name the model knows, in number order.
pub const ERRNO_NAMES: &[&str] = &[
    "EPERM",
    "ENOENT",
    "EINTR",
    "ENOEXEC",
    "EWOULDBLOCK",
    "ENOMEM",
    "EBUSY",
    "EEXIST",
    "ENODEV",
    "EINVAL",
    "ETXTBSY",
    "EDEADLK",
    "ETIME",
    "ETIMEDOUT",
    "ERESTARTSYS",
];

/// Every errno name the model knows, in number order.
pub fn errno_names() -> Vec<&'static str> {
    ERRNO_NAMES.to_vec()
}

/// The errno for a name such as `"EBUSY"` (without sign).
pub fn errno_by_name(name: &str) -> Option<Ret> {
    NAMES.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
}

/// `0`, `-EEXIST`, or `status 1` for a positive helper exit status.
pub fn ret_name(ret: Ret) -> String {
    if ret == 0 {
        "0".to_string()
    } else if ret > 0 {
        format!("status {ret}")
    } else {
        match NAMES.iter().find(|(v, _)| *v == -ret) {
            Some((_, n)) => format!("-{n}"),
            None => format!("-{}", -ret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_names_are_every_name_in_number_order() {
        let mut v: Vec<_> = NAMES.to_vec();
        v.sort_by_key(|(n, _)| *n);
        let names: Vec<&str> = v.into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ERRNO_NAMES);
    }
}
