//! How a scenario's values read in a file: errnos by name, and the results
//! an `[[expect]]` allows ("0", "ENOENT", "killed", "status 256"), one or a
//! list. serde `with` modules for the fields of [`super::InitStep`] and
//! [`super::Expect`]; a value of the wrong kind is serde's "unknown variant"
//! error, which the file reader locates and completes with a suggestion.

use crate::errno::{errno_by_name, ret_name, Ret, ERRNO_NAMES};
use serde::de::{Deserializer, Error as _};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

/// A positive errno, written by name (`"ENODEV"`, or `"-ENODEV"`).
pub mod errno {
    use super::*;

    pub fn serialize<S: Serializer>(e: &i32, s: S) -> Result<S::Ok, S::Error> {
        ret_name(-e).trim_start_matches('-').serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
        let name = String::deserialize(d)?;
        errno_by_name(name.trim_start_matches('-'))
            .ok_or_else(|| D::Error::unknown_variant(&name, ERRNO_NAMES))
    }
}

/// "result = X" or "result = [X, Y]": one or a list.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// What one result item may be, besides "0" and an errno name.
#[derive(Clone, Copy)]
struct Allowed {
    killed: bool,
    status: bool,
}

fn item(s: &str, allowed: Allowed) -> Option<Option<Ret>> {
    if s == "0" {
        return Some(Some(0));
    }
    if allowed.killed && s == "killed" {
        return Some(None);
    }
    if allowed.status {
        if let Some(n) = s.strip_prefix("status ") {
            if let Ok(n) = n.trim().parse::<Ret>() {
                if n > 0 {
                    return Some(Some(n));
                }
            }
        }
    }
    errno_by_name(s.trim_start_matches('-')).map(|e| Some(-e))
}

fn read<'de, D: Deserializer<'de>>(d: D, allowed: Allowed) -> Result<Vec<Option<Ret>>, D::Error> {
    let items = match OneOrMany::deserialize(d).map_err(|_| {
        D::Error::custom(
            "expected a result or a list of them, e.g. \"0\", \"EBUSY\" or [\"0\", \"killed\"]",
        )
    })? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    };
    items
        .iter()
        .map(|s| {
            item(s, allowed).ok_or_else(|| {
                D::Error::custom(format!(
                    "result {s:?} is not one the kernel hands back here; expected \"0\", an errno name such as \"ENOENT\"{}{}",
                    if allowed.killed { ", or \"killed\"" } else { "" },
                    if allowed.status {
                        ", or a wait status such as \"status 256\" (modprobe exited 1)"
                    } else {
                        ""
                    }
                ))
            })
        })
        .collect()
}

fn write<S: Serializer>(rs: impl Iterator<Item = Option<Ret>>, s: S) -> Result<S::Ok, S::Error> {
    rs.map(|r| {
        r.map_or_else(
            || "killed".to_string(),
            |r| ret_name(r).trim_start_matches('-').to_string(),
        )
    })
    .collect::<Vec<_>>()
    .serialize(s)
}

/// What a task's syscall ends with: a result, or "killed" (`None`).
pub mod exit_results {
    use super::*;

    pub fn serialize<S: Serializer>(r: &[Option<Ret>], s: S) -> Result<S::Ok, S::Error> {
        write(r.iter().copied(), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Option<Ret>>, D::Error> {
        read(
            d,
            Allowed {
                killed: true,
                status: false,
            },
        )
    }
}

/// What `request_module` returns: a result, or a wait(2) status.
pub mod request_results {
    use super::*;

    pub fn serialize<S: Serializer>(r: &[Ret], s: S) -> Result<S::Ok, S::Error> {
        write(r.iter().map(|r| Some(*r)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Ret>, D::Error> {
        let allowed = Allowed {
            killed: false,
            status: true,
        };
        Ok(read(d, allowed)?.into_iter().flatten().collect())
    }
}

/// A syscall's result, "0" or an errno name.
pub mod results {
    use super::*;

    pub fn serialize<S: Serializer>(r: &[Ret], s: S) -> Result<S::Ok, S::Error> {
        write(r.iter().map(|r| Some(*r)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Ret>, D::Error> {
        let allowed = Allowed {
            killed: false,
            status: false,
        };
        Ok(read(d, allowed)?.into_iter().flatten().collect())
    }
}
