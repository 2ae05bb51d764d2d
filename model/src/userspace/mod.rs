//! Userspace: modprobe (kmod/libkmod).

pub mod modprobe;
