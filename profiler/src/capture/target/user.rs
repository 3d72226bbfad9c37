//! `--user`: the user the command runs as, resolved to ids before anything starts.

use std::ffi::CString;

use anyhow::{bail, Context as _};

/// A user to run the command as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunAs {
    /// Name as given (or the numeric id).
    pub name: String,
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

/// Resolves `NAME`, `UID` or `UID:GID` to ids, reading the user database for names.
pub fn resolve_user(spec: &str) -> anyhow::Result<RunAs> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let group = group
        .map(|g| {
            g.parse::<u32>()
                .with_context(|| format!("`--user {spec}`: group `{g}` is not a number"))
        })
        .transpose()?;
    if let Ok(uid) = user.parse::<u32>() {
        let gid = group.unwrap_or(uid);
        return Ok(RunAs {
            name: spec.to_owned(),
            uid,
            gid,
            groups: vec![gid],
        });
    }
    let name = CString::new(user).with_context(|| format!("`--user {spec}` contains a NUL"))?;
    // SAFETY: `passwd` is plain C data (integers and pointers), for which all-zero bytes
    // are a valid value; getpwnam_r overwrites it before anything reads it.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut result = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call; `buf` outlives the use of `pwd`'s
    // string fields, which are not read.
    let rc = unsafe {
        libc::getpwnam_r(
            name.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        bail!("`--user {spec}`: no such user in the user database");
    }
    let gid = group.unwrap_or(pwd.pw_gid);
    let mut groups = vec![0 as libc::gid_t; 256];
    let mut n = groups.len() as libc::c_int;
    // SAFETY: `groups` has room for `n` entries; `name` is a valid C string.
    let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
    if rc < 0 {
        bail!("`--user {spec}` belongs to more than 256 groups");
    }
    groups.truncate(n.max(0) as usize);
    Ok(RunAs {
        name: user.to_owned(),
        uid: pwd.pw_uid,
        gid,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_specs() {
        assert_eq!(
            resolve_user("1234:99").unwrap(),
            RunAs {
                name: "1234:99".into(),
                uid: 1234,
                gid: 99,
                groups: vec![99]
            }
        );
        let root = resolve_user("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(
            resolve_user("no-such-user-sandprof")
                .unwrap_err()
                .to_string(),
            "`--user no-such-user-sandprof`: no such user in the user database"
        );
        assert_eq!(
            resolve_user("1:x").unwrap_err().to_string(),
            "`--user 1:x`: group `x` is not a number"
        );
    }
}
