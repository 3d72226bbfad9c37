//! Showing captured arguments to people: each field with its raw value and, when the
//! database names it, its symbol (`AF_NETLINK`, `TCGETS`, `CLONE_NEWNET|CLONE_NEWPID`).
//! A value is named in the context of its call: an option number by its level, a
//! socket protocol by its domain (the database's field namings).

use syscall_db::{Arch, Database, FieldValue, FieldValues};

use super::finding::ShownArg;

/// The fields of a `syscall` signature, in field-name order; with `only`, just those
/// fields (the ones a rule decided on).
pub fn shown_args(
    db: &Database,
    arch: Arch,
    syscall: &str,
    fields: &FieldValues,
    only: Option<&dyn Fn(&str) -> bool>,
) -> Vec<ShownArg> {
    fields
        .iter()
        .filter(|(name, _)| only.is_none_or(|keep| keep(name)))
        .map(|(name, value)| shown_arg(db, arch, syscall, fields, name, value))
        .collect()
}

/// Field `name` of a `syscall` signature whose fields are `fields`, shown.
pub fn shown_arg(
    db: &Database,
    arch: Arch,
    syscall: &str,
    fields: &FieldValues,
    name: &str,
    value: &FieldValue,
) -> ShownArg {
    match value {
        FieldValue::Str(text) => ShownArg {
            name: name.to_owned(),
            raw: text.clone(),
            symbol: None,
        },
        &FieldValue::Int(number) => ShownArg {
            name: name.to_owned(),
            raw: number.to_string(),
            symbol: db
                .value_group(arch, syscall, name, fields)
                .and_then(|group| symbol(db, group, number, arch)),
        },
    }
}

/// The name of `value` in `group`, or, for a set of flags, the names of its bits joined
/// by `|` when they account for every bit. None when the value has no exact rendering.
pub fn symbol(db: &Database, group: &str, value: u64, arch: Arch) -> Option<String> {
    if let Some(name) = db.constant_name(group, value, arch) {
        return Some(name.to_owned());
    }
    if value == 0 {
        return None;
    }
    let mut rest = value;
    let mut names = Vec::new();
    for constant in db.constants(group) {
        let applies = constant.arches.is_empty() || constant.arches.contains(&arch);
        if applies && constant.value.is_power_of_two() && rest & constant.value != 0 {
            rest &= !constant.value;
            names.push(constant.name.as_str());
        }
    }
    (rest == 0 && names.len() > 1).then(|| names.join("|"))
}

/// A field value in a title: the symbol if known, else the number; strings quoted.
pub fn title_value(arg: &ShownArg, is_string: bool) -> String {
    if is_string {
        format!("\"{}\"", arg.raw)
    } else {
        arg.symbol.clone().unwrap_or_else(|| arg.raw.clone())
    }
}
