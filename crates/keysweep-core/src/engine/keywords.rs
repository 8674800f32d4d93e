//! The keyword pass: every occurrence of every rule keyword (ASCII case-insensitive, overlapping),
//! reported in order of where it ends.
//!
//! This is the one pass that sees every byte, so it sets the engine's speed. aho-corasick builds the
//! automaton (a DFA with the standard, report-everything semantics); its transitions are then laid
//! out again as a compact table (one column per byte class, case folded into the classes, match states
//! numbered first so that one comparison tells a match) and run over four parts of the input at
//! once. A DFA step waits on the previous one, so a single pass is bound by memory latency (about
//! 600 MB/s here); four independent passes interleaved keep the core busy and run about three times
//! as fast. Each part starts as many bytes early as the longest keyword is long, without reporting:
//! the automaton's state depends only on that many trailing bytes, so every part reports exactly
//! what one pass would have reported there.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::{Anchored, MatchKind, dfa};

/// Parts run side by side.
const LANES: usize = 4;
/// Inputs shorter than this per lane run as one pass: starting each part costs a keyword's length.
const MIN_LANE: usize = 256;
/// Input handled per round of the lanes: bounds the hits held before they are handed on in order.
const BLOCK: usize = 256 << 10;

/// A keyword occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub pattern: usize,
    pub start: usize,
    pub end: usize,
}

pub struct Keywords {
    /// `trans[state + class]` is the next state; states are premultiplied by `stride`.
    trans: Vec<u32>,
    class: [u8; 256],
    stride: u32,
    start: u32,
    /// States below this are match states.
    match_limit: u32,
    /// For each match state (by state / stride), the patterns ending there.
    matches: Vec<Vec<u32>>,
    lens: Vec<usize>,
    max_len: usize,
    /// [`BLOCK`] and [`MIN_LANE`], smaller in tests so that small inputs cross blocks and lanes.
    block: usize,
    min_lane: usize,
}

impl Keywords {
    /// The automaton for `patterns`, matched ASCII case-insensitively; an error when it cannot be
    /// built (too large).
    pub fn new(patterns: &[String]) -> Result<Keywords, String> {
        let d = dfa::Builder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .prefilter(false)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        // Byte classes: each byte a keyword holds (case folded) is its own class, all others one.
        let mut class = [0u8; 256];
        let mut reps: Vec<Option<u8>> = vec![None];
        for p in patterns {
            for &b in p.as_bytes() {
                let b = b.to_ascii_lowercase();
                if class[b as usize] == 0 {
                    if reps.len() > 255 {
                        return Err("keywords use too many distinct bytes".into());
                    }
                    let c = reps.len() as u8;
                    reps.push(Some(b));
                    class[b as usize] = c;
                    class[b.to_ascii_uppercase() as usize] = c;
                }
            }
        }
        reps[0] = (0..=255u8).find(|&b| class[b as usize] == 0);
        let stride = reps.len();
        // Every state reachable from the start, breadth first.
        let s0 = d.start_state(Anchored::No).map_err(|e| e.to_string())?;
        let mut order: Vec<StateID> = vec![s0];
        let mut index: std::collections::HashMap<StateID, usize> =
            std::collections::HashMap::from([(s0, 0)]);
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            for &r in reps.iter().flatten() {
                let t = d.next_state(Anchored::No, s, r);
                if let std::collections::hash_map::Entry::Vacant(v) = index.entry(t) {
                    v.insert(order.len());
                    order.push(t);
                }
            }
            i += 1;
        }
        // Match states first.
        let mut renumber = vec![0usize; order.len()];
        let mut matches: Vec<Vec<u32>> = Vec::new();
        for (k, &s) in order.iter().enumerate() {
            if d.is_match(s) {
                renumber[k] = matches.len();
                matches.push(
                    (0..d.match_len(s))
                        .map(|m| d.match_pattern(s, m).as_u32())
                        .collect(),
                );
            }
        }
        let mut next = matches.len();
        for (k, &s) in order.iter().enumerate() {
            if !d.is_match(s) {
                renumber[k] = next;
                next += 1;
            }
        }
        if order
            .len()
            .checked_mul(stride)
            .is_none_or(|n| n > u32::MAX as usize)
        {
            return Err("keyword automaton too large".into());
        }
        let mut trans = vec![0u32; order.len() * stride];
        for (k, &s) in order.iter().enumerate() {
            for (c, r) in reps.iter().enumerate() {
                let t = match r {
                    Some(r) => d.next_state(Anchored::No, s, *r),
                    // No byte falls in this class: its column is never read.
                    None => s0,
                };
                trans[renumber[k] * stride + c] = (renumber[index[&t]] * stride) as u32;
            }
        }
        let lens: Vec<usize> = patterns.iter().map(String::len).collect();
        Ok(Keywords {
            trans,
            class,
            stride: stride as u32,
            start: (renumber[0] * stride) as u32,
            match_limit: (matches.len() * stride) as u32,
            matches,
            max_len: lens.iter().copied().max().unwrap_or(0),
            lens,
            block: BLOCK,
            min_lane: MIN_LANE,
        })
    }

    #[inline(always)]
    fn step(&self, s: u32, b: u8) -> u32 {
        // SAFETY: `class` maps every byte below `stride`, and every entry of `trans` is a state
        // premultiplied by `stride`, so `s + class` is always inside `trans`.
        unsafe {
            *self
                .trans
                .get_unchecked((s + u32::from(*self.class.get_unchecked(b as usize))) as usize)
        }
    }

    /// The state after reading `bytes` from the start.
    fn warm(&self, bytes: &[u8]) -> u32 {
        bytes.iter().fold(self.start, |s, &b| self.step(s, b))
    }

    /// Calls `f` with every keyword occurrence in `data`, in order of their ends.
    pub fn each(&self, data: &[u8], mut f: impl FnMut(Hit)) {
        let mut lanes: [Vec<(u32, u32)>; LANES] = Default::default();
        let warm = self.max_len.saturating_sub(1);
        let mut at = 0;
        // The state at `at`, carried from block to block so the first lane needs no warm-up.
        let mut state = self.start;
        while at < data.len() {
            let end = (at + self.block).min(data.len());
            let block = &data[at..end];
            let lane = block.len() / LANES;
            if lane < self.min_lane.max(warm).max(1) {
                state = self.scan(block, state, |i, s| self.emit(s, at + i + 1, &mut f));
            } else {
                for l in &mut lanes {
                    l.clear();
                }
                state = self.lanes(data, at, lane, state, &mut lanes);
                for l in &lanes {
                    for &(end, s) in l {
                        self.emit(s, at + end as usize, &mut f);
                    }
                }
                // What the lanes left over at the end of the block.
                let rest = at + LANES * lane;
                state = self.scan(&data[rest..end], state, |i, s| {
                    self.emit(s, rest + i + 1, &mut f)
                });
            }
            at = end;
        }
    }

    /// One pass over `bytes` from `state`; `hit(i, s)` when byte `i` leaves a match state `s`.
    #[inline(always)]
    fn scan(&self, bytes: &[u8], mut state: u32, mut hit: impl FnMut(usize, u32)) -> u32 {
        for (i, &b) in bytes.iter().enumerate() {
            state = self.step(state, b);
            if state < self.match_limit {
                hit(i, state);
            }
        }
        state
    }

    /// Runs the lanes over `data[at..at + LANES * lane]`, lane `k` over its `k`th part, storing each
    /// lane's hits as `(end - at, state)`; returns the state at the end of the last lane.
    fn lanes(
        &self,
        data: &[u8],
        at: usize,
        lane: usize,
        state: u32,
        out: &mut [Vec<(u32, u32)>; LANES],
    ) -> u32 {
        let warm = self.max_len.saturating_sub(1);
        let mut s = [state; LANES];
        let mut base = [at; LANES];
        for k in 1..LANES {
            base[k] = at + k * lane;
            s[k] = self.warm(&data[base[k] - warm..base[k]]);
        }
        let limit = self.match_limit;
        let parts: [&[u8]; LANES] = std::array::from_fn(|k| &data[base[k]..base[k] + lane]);
        for i in 0..lane {
            let mut any = false;
            for k in 0..LANES {
                // SAFETY: every part is `lane` bytes long and `i < lane`.
                let b = unsafe { *parts[k].get_unchecked(i) };
                s[k] = self.step(s[k], b);
                any |= s[k] < limit;
            }
            if any {
                for k in 0..LANES {
                    if s[k] < limit {
                        // Relative to the block, which is at most BLOCK bytes long: fits in u32.
                        out[k].push(((base[k] - at + i + 1) as u32, s[k]));
                    }
                }
            }
        }
        s[LANES - 1]
    }

    #[inline]
    fn emit(&self, state: u32, end: usize, f: &mut impl FnMut(Hit)) {
        for &p in &self.matches[(state / self.stride) as usize] {
            let p = p as usize;
            f(Hit {
                pattern: p,
                start: end - self.lens[p],
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasickBuilder;

    fn reference(patterns: &[String], data: &[u8]) -> Vec<Hit> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(patterns)
            .unwrap();
        let mut out: Vec<Hit> = ac
            .find_overlapping_iter(data)
            .map(|m| Hit {
                pattern: m.pattern().as_usize(),
                start: m.start(),
                end: m.end(),
            })
            .collect();
        out.sort_by_key(|h| (h.end, h.pattern));
        out
    }

    fn ours(k: &Keywords, data: &[u8]) -> Vec<Hit> {
        let mut out = Vec::new();
        k.each(data, |h| out.push(h));
        // Ends never go backwards; among equal ends the order is free.
        assert!(out.windows(2).all(|w| w[0].end <= w[1].end));
        out.sort_by_key(|h| (h.end, h.pattern));
        out
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
        #[test]
        fn lanes_and_blocks_report_what_one_pass_reports(
            pieces in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just("xox".to_string()),
                    proptest::strategy::Just("XOXB-".to_string()),
                    proptest::strategy::Just("oxb".to_string()),
                    proptest::strategy::Just("ghp_".to_string()),
                    proptest::strategy::Just("a".to_string()),
                    "[a-zA-Z0-9_ -]{1,40}",
                ],
                0..300,
            ),
            block in 16usize..4096,
            min_lane in 1usize..64,
        ) {
            let patterns: Vec<String> =
                ["xox", "xoxb-", "oxb", "b-", "ghp_", "hp_", "a"].map(String::from).to_vec();
            let mut k = Keywords::new(&patterns).unwrap();
            k.block = block;
            k.min_lane = min_lane;
            let data = pieces.concat();
            proptest::prop_assert_eq!(ours(&k, data.as_bytes()), reference(&patterns, data.as_bytes()));
        }
    }

    #[test]
    fn the_real_pack_on_a_large_input() {
        let rules = crate::rules::default_rules().unwrap();
        let mut patterns: Vec<String> = rules
            .iter()
            .flat_map(|r| r.keywords.iter().map(|k| k.to_ascii_lowercase()))
            .collect();
        patterns.sort();
        patterns.dedup();
        let k = Keywords::new(&patterns).unwrap();
        // Every keyword many times, in both cases, around lane and block edges.
        let mut data = Vec::new();
        let mut i = 0usize;
        while data.len() < 3 * BLOCK + 777 {
            let p = &patterns[i % patterns.len()];
            if i % 3 == 0 {
                data.extend_from_slice(p.to_ascii_uppercase().as_bytes());
            } else {
                data.extend_from_slice(p.as_bytes());
            }
            data.extend_from_slice(&b" filler text, "[..(i * 7) % 14]);
            i += 1;
        }
        let want = reference(&patterns, &data);
        assert!(want.len() > 10_000);
        assert_eq!(ours(&k, &data), want);
        assert!(ours(&k, b"").is_empty());
    }
}
