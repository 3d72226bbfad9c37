//! The embedded catalogue of runsc messages loads against the embedded database, and
//! every message recognised by wording is recognised by each of its wordings.

use syscall_db::messages::{MessageCatalogue, Recognised};
use syscall_db::Database;

#[test]
fn message_catalogue_loads() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/gvisor/messages.toml"
    ))
    .unwrap();
    if let Err(err) = MessageCatalogue::from_toml(&text, Database::get()) {
        panic!("{err}");
    }
}

/// Each wording, with every capture filled by a sample value, is recognised as its own
/// message (or, for wordings two messages share, as one of them): no earlier wording
/// shadows a later one by accident.
#[test]
fn every_wording_recognises_its_message() {
    let catalogue = MessageCatalogue::get();
    for message in catalogue.messages() {
        if message.recognised != Recognised::Wording {
            continue;
        }
        for wording in &message.wordings {
            let sample = fill_sample(&wording.text);
            let task = message.task == syscall_db::messages::TaskPrefix::Present;
            let (index, _) = catalogue
                .recognise(sample.as_bytes(), task)
                .unwrap_or_else(|| panic!("{}: {sample:?} is not recognised", message.id));
            assert_eq!(
                catalogue.messages()[index].id,
                message.id,
                "{sample:?} is recognised as another message"
            );
        }
    }
}

fn fill_sample(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let name = &rest[open + 1..close];
        out.push_str(&rest[..open]);
        if name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            out.push_str("x1");
        } else {
            out.push_str(&rest[open..=close]);
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}
