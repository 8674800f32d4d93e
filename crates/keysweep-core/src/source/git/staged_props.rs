//! Property test of the `git diff --raw -z` parser: whatever records git writes, including paths with
//! spaces, newlines and non-UTF-8 bytes, renames and copies, parse back to the same changes.

use git2::Oid;
use proptest::prelude::*;

use super::parse_raw;

#[derive(Debug, Clone)]
struct Record {
    status: char,
    old_mode: &'static str,
    new_mode: &'static str,
    old: [u8; 20],
    new: [u8; 20],
    from: Vec<u8>,
    to: Vec<u8>,
}

fn record() -> impl Strategy<Value = Record> {
    let path = proptest::collection::vec(1u8..=255, 1..40);
    (
        prop_oneof![Just('A'), Just('M'), Just('R'), Just('C'), Just('T')],
        prop_oneof![
            Just("100644"),
            Just("100755"),
            Just("120000"),
            Just("160000")
        ],
        any::<[u8; 20]>(),
        any::<[u8; 20]>(),
        path.clone(),
        path,
    )
        .prop_map(|(status, mode, old, new, from, to)| Record {
            status,
            old_mode: if status == 'A' { "000000" } else { "100644" },
            new_mode: mode,
            old,
            new,
            from,
            to,
        })
}

fn hex(b: &[u8; 20]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

proptest! {
    #[test]
    fn raw_records_round_trip(records in proptest::collection::vec(record(), 0..12)) {
        let mut raw = Vec::new();
        for r in &records {
            let score = if matches!(r.status, 'R' | 'C') { "087" } else { "" };
            raw.extend(format!(":{} {} {} {} {}{score}\0", r.old_mode, r.new_mode, hex(&r.old), hex(&r.new), r.status).bytes());
            if matches!(r.status, 'R' | 'C') {
                raw.extend(&r.from);
                raw.push(0);
            }
            raw.extend(&r.to);
            raw.push(0);
        }
        let parsed = parse_raw(&raw).expect("well-formed records parse");
        let kept: Vec<&Record> = records.iter().filter(|r| r.new_mode != "160000").collect();
        prop_assert_eq!(parsed.len(), kept.len());
        for (c, r) in parsed.iter().zip(kept) {
            prop_assert_eq!(&c.path, &String::from_utf8_lossy(&r.to).into_owned());
            prop_assert_eq!(c.new, Oid::from_bytes(&r.new).unwrap());
            let old = (r.status != 'A').then(|| Oid::from_bytes(&r.old).unwrap());
            prop_assert_eq!(c.old, old);
        }
    }

    #[test]
    fn garbage_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_raw(&raw);
    }
}
