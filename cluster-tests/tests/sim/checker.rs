//! Linearizability checker for one key's history: Wing & Gong's search with Lowe's
//! memoization (as Porcupine does it), over a register that also supports INCR.
//!
//! An operation has an invocation time and, if it completed, a return time; times come from
//! one global counter, so they order events as they really happened. Operations that failed
//! definitely are left out by the caller. An operation whose outcome is unknown (timeout,
//! connection lost after sending) has no return time: it may take effect at any point after
//! its invocation, or never. The history is linearizable if every completed operation, plus
//! any subset of the unknown ones, can be put in a total order that respects real time and in
//! which every output is the model's.
//!
//! Two reductions keep unknown operations from blowing up the search (each one otherwise
//! doubles the reachable sets): an unknown SET whose (unique) value nobody ever read is
//! dropped — taking effect or not cannot change what any other operation saw — and among
//! unknown operations with the same input (INCR) only the earliest invoked one still pending is
//! tried, since any order using a later one can use the earlier one instead.

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Input {
    /// SET with a value unique among the key's writes.
    Set(Bytes),
    Incr,
    Get,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// SET acknowledged.
    Ok,
    /// The integer INCR returned.
    Int(i64),
    /// What GET returned (`None`: no value).
    Value(Option<Bytes>),
    /// INCR refused: the value is not an integer.
    NotInteger,
    /// No reply: the operation may or may not have taken effect.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct Op {
    pub client: usize,
    pub call: u64,
    /// `None` when the outcome is unknown.
    pub ret: Option<u64>,
    pub input: Input,
    pub output: Output,
    /// What the serving replica said about it (shown in failure reports only).
    pub note: String,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ret = self.ret.map_or("?".to_string(), |r| r.to_string());
        let show = |b: &Bytes| String::from_utf8_lossy(b).into_owned();
        let input = match &self.input {
            Input::Set(v) => format!("SET {}", show(v)),
            Input::Incr => "INCR".to_string(),
            Input::Get => "GET".to_string(),
        };
        let output = match &self.output {
            Output::Ok => "OK".to_string(),
            Output::Int(n) => n.to_string(),
            Output::Value(Some(v)) => show(v),
            Output::Value(None) => "(nil)".to_string(),
            Output::NotInteger => "ERR not an integer".to_string(),
            Output::Unknown => "unknown".to_string(),
        };
        write!(
            f,
            "[{:>7} .. {:>7}] client {:<2} {input} -> {output}  {}",
            self.call, ret, self.client, self.note
        )
    }
}

/// The register's state: its value, if any.
type State = Option<Bytes>;

/// The model: the state after `input` produced `output` in `state`, or `None` if the register
/// cannot produce that output there.
fn step(state: &State, input: &Input, output: &Output) -> Option<State> {
    match input {
        Input::Set(v) => match output {
            Output::Ok | Output::Unknown => Some(Some(v.clone())),
            _ => None,
        },
        Input::Get => match output {
            Output::Value(seen) if seen == state => Some(state.clone()),
            // A GET without an answer constrains nothing (the caller drops those anyway).
            Output::Unknown => Some(state.clone()),
            _ => None,
        },
        Input::Incr => {
            let current = match state {
                None => Some(0i64),
                Some(v) => std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok()),
            };
            match current.and_then(|n| n.checked_add(1)) {
                Some(next) => match output {
                    Output::Int(n) if *n == next => Some(Some(Bytes::from(next.to_string()))),
                    Output::Unknown => Some(Some(Bytes::from(next.to_string()))),
                    _ => None,
                },
                None => match output {
                    Output::NotInteger | Output::Unknown => Some(state.clone()),
                    _ => None,
                },
            }
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Linearizable,
    NotLinearizable,
    /// The search exceeded its budget of explored states: neither proven nor refuted.
    GaveUp,
}

/// The operations the search works on, after the reductions in the module docs.
fn reduce(history: &[Op]) -> Vec<Op> {
    let observed: HashSet<&Bytes> = history
        .iter()
        .filter_map(|op| match &op.output {
            Output::Value(Some(v)) => Some(v),
            _ => None,
        })
        .collect();
    history
        .iter()
        .filter(|op| match (&op.input, &op.output) {
            (Input::Get, Output::Unknown) => false,
            (Input::Set(v), Output::Unknown) => observed.contains(v),
            _ => true,
        })
        .cloned()
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Event {
    Call(usize),
    Return(usize),
}

/// A doubly linked list of events over a vector, so operations can be lifted out and put
/// back in O(1) during the search.
struct Events {
    events: Vec<Event>,
    next: Vec<Option<usize>>,
    prev: Vec<Option<usize>>,
    head: Option<usize>,
    /// Position of each operation's call and return event.
    call_pos: Vec<usize>,
    ret_pos: Vec<Option<usize>>,
}

impl Events {
    fn new(ops: &[Op]) -> Events {
        let mut timed: Vec<(u64, Event)> = Vec::new();
        for (i, op) in ops.iter().enumerate() {
            timed.push((op.call, Event::Call(i)));
            if let Some(r) = op.ret {
                timed.push((r, Event::Return(i)));
            }
        }
        // Times are unique (one global counter); at equal times a call goes first, which is
        // the permissive reading of concurrent events.
        timed.sort_by_key(|(t, e)| (*t, matches!(e, Event::Return(_))));
        let n = timed.len();
        let mut call_pos = vec![0; ops.len()];
        let mut ret_pos = vec![None; ops.len()];
        for (p, (_, e)) in timed.iter().enumerate() {
            match e {
                Event::Call(i) => call_pos[*i] = p,
                Event::Return(i) => ret_pos[*i] = Some(p),
            }
        }
        Events {
            events: timed.into_iter().map(|(_, e)| e).collect(),
            next: (0..n).map(|p| (p + 1 < n).then_some(p + 1)).collect(),
            prev: (0..n).map(|p| p.checked_sub(1)).collect(),
            head: (n > 0).then_some(0),
            call_pos,
            ret_pos,
        }
    }

    fn unlink(&mut self, p: usize) {
        match self.prev[p] {
            Some(q) => self.next[q] = self.next[p],
            None => self.head = self.next[p],
        }
        if let Some(q) = self.next[p] {
            self.prev[q] = self.prev[p];
        }
    }

    /// Undoes `unlink(p)`; unlinks must be undone in reverse order.
    fn relink(&mut self, p: usize) {
        match self.prev[p] {
            Some(q) => self.next[q] = Some(p),
            None => self.head = Some(p),
        }
        if let Some(q) = self.next[p] {
            self.prev[q] = Some(p);
        }
    }

    fn lift(&mut self, op: usize) {
        self.unlink(self.call_pos[op]);
        if let Some(r) = self.ret_pos[op] {
            self.unlink(r);
        }
    }

    fn unlift(&mut self, op: usize) {
        if let Some(r) = self.ret_pos[op] {
            self.relink(r);
        }
        self.relink(self.call_pos[op]);
    }
}

/// Explored (linearized set, state) pairs before the checker gives up.
const BUDGET: usize = 2_000_000;

/// Checks one key's history; see the module docs.
pub fn check(history: &[Op]) -> Verdict {
    let ops = reduce(history);
    let n = ops.len();
    // For the symmetry reduction: the unknown operation with the same input invoked just
    // before this one (it must be linearized first).
    let mut same_before: Vec<Option<usize>> = vec![None; n];
    {
        let mut unknown: Vec<usize> = (0..n)
            .filter(|&i| ops[i].output == Output::Unknown)
            .collect();
        unknown.sort_by_key(|&i| ops[i].call);
        for (k, &i) in unknown.iter().enumerate() {
            same_before[i] = unknown[..k]
                .iter()
                .rev()
                .find(|&&j| ops[j].input == ops[i].input)
                .copied();
        }
    }
    let mut remaining_completed = ops.iter().filter(|op| op.ret.is_some()).count();
    let mut events = Events::new(&ops);
    let mut linearized = vec![0u64; n.div_ceil(64).max(1)];
    let mut state: State = None;
    let mut cache: HashSet<(Vec<u64>, State)> = HashSet::new();
    // (operation, state before it) for every operation linearized so far, in order.
    let mut stack: Vec<(usize, State)> = Vec::new();
    let mut cursor = events.head;
    loop {
        if remaining_completed == 0 {
            return Verdict::Linearizable;
        }
        let Some(p) = cursor else {
            // Only unknown operations are left ahead and none can be placed: backtrack.
            match backtrack(&mut stack, &mut events, &mut linearized, &ops) {
                Some((next, s, done)) => {
                    state = s;
                    remaining_completed += done;
                    cursor = next;
                    continue;
                }
                None => return Verdict::NotLinearizable,
            }
        };
        match events.events[p] {
            Event::Call(i) => {
                let blocked = same_before[i].is_some_and(|j| !is_set(&linearized, j));
                let next_state = if blocked {
                    None
                } else {
                    step(&state, &ops[i].input, &ops[i].output)
                };
                let mut moved = false;
                if let Some(s2) = next_state {
                    set(&mut linearized, i, true);
                    if cache.insert((linearized.clone(), s2.clone())) {
                        if cache.len() > BUDGET {
                            return Verdict::GaveUp;
                        }
                        stack.push((i, std::mem::replace(&mut state, s2)));
                        events.lift(i);
                        if ops[i].ret.is_some() {
                            remaining_completed -= 1;
                        }
                        cursor = events.head;
                        moved = true;
                    } else {
                        set(&mut linearized, i, false);
                    }
                }
                if !moved {
                    cursor = events.next[p];
                }
            }
            Event::Return(_) => {
                // An operation returned before being linearized: undo the last choice.
                match backtrack(&mut stack, &mut events, &mut linearized, &ops) {
                    Some((next, s, done)) => {
                        state = s;
                        remaining_completed += done;
                        cursor = next;
                    }
                    None => return Verdict::NotLinearizable,
                }
            }
        }
    }
}

/// Undoes the most recent linearization: returns where to continue (the event after its
/// call), the state before it, and 1 if it was a completed operation.
fn backtrack(
    stack: &mut Vec<(usize, State)>,
    events: &mut Events,
    linearized: &mut [u64],
    ops: &[Op],
) -> Option<(Option<usize>, State, usize)> {
    let (i, before) = stack.pop()?;
    events.unlift(i);
    set(linearized, i, false);
    let done = usize::from(ops[i].ret.is_some());
    Some((events.next[events.call_pos[i]], before, done))
}

fn is_set(bits: &[u64], i: usize) -> bool {
    bits[i / 64] & (1 << (i % 64)) != 0
}

fn set(bits: &mut [u64], i: usize, on: bool) {
    if on {
        bits[i / 64] |= 1 << (i % 64);
    } else {
        bits[i / 64] &= !(1 << (i % 64));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(client: usize, call: u64, ret: Option<u64>, input: Input, output: Output) -> Op {
        Op {
            client,
            call,
            ret,
            input,
            output,
            note: String::new(),
        }
    }
    fn set_(c: usize, call: u64, ret: u64, v: &'static str) -> Op {
        op(c, call, Some(ret), Input::Set(Bytes::from(v)), Output::Ok)
    }
    fn set_unknown(c: usize, call: u64, v: &'static str) -> Op {
        op(c, call, None, Input::Set(Bytes::from(v)), Output::Unknown)
    }
    fn get(c: usize, call: u64, ret: u64, v: Option<&'static str>) -> Op {
        op(
            c,
            call,
            Some(ret),
            Input::Get,
            Output::Value(v.map(Bytes::from)),
        )
    }
    fn incr(c: usize, call: u64, ret: Option<u64>, out: Option<i64>) -> Op {
        let output = out.map_or(Output::Unknown, Output::Int);
        op(c, call, ret, Input::Incr, output)
    }

    #[test]
    fn accepts_linearizable_histories() {
        // Concurrent write and reads: the first read may see either value.
        let h = vec![
            set_(0, 1, 10, "a"),
            get(1, 2, 4, None),
            get(2, 5, 15, Some("a")),
            set_(0, 12, 20, "b"),
            get(1, 13, 14, Some("a")),
            get(2, 21, 22, Some("b")),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
        // Many overlapping writes, read back in an order consistent with some linearization.
        let h = vec![
            set_(0, 1, 100, "a"),
            set_(1, 2, 100, "b"),
            set_(2, 3, 100, "c"),
            get(3, 4, 5, Some("c")),
            get(3, 6, 7, Some("a")),
            get(4, 8, 9, Some("a")),
            get(4, 101, 102, Some("b")),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
        assert_eq!(check(&[]), Verdict::Linearizable);
    }

    #[test]
    fn rejects_a_stale_read() {
        let h = vec![
            set_(0, 1, 2, "a"),
            set_(0, 3, 4, "b"),
            get(1, 5, 6, Some("a")),
        ];
        assert_eq!(check(&h), Verdict::NotLinearizable);
    }

    #[test]
    fn rejects_values_going_back_and_forth() {
        // Two readers disagree about the order of two writes, after both completed.
        let h = vec![
            set_(0, 1, 10, "a"),
            set_(1, 2, 10, "b"),
            get(2, 11, 12, Some("a")),
            get(3, 13, 14, Some("b")),
            get(2, 15, 16, Some("a")),
        ];
        assert_eq!(check(&h), Verdict::NotLinearizable);
        // A value nobody wrote.
        assert_eq!(check(&[get(0, 1, 2, Some("x"))]), Verdict::NotLinearizable);
    }

    #[test]
    fn unknown_writes_may_take_effect_late_or_never() {
        // Never observed: fine either way.
        let h = vec![
            set_(0, 1, 2, "a"),
            set_unknown(1, 3, "b"),
            get(2, 10, 11, Some("a")),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
        // Takes effect long after the client gave up.
        let h = vec![
            set_(0, 1, 2, "a"),
            set_unknown(1, 3, "b"),
            get(2, 10, 11, Some("a")),
            get(2, 50, 51, Some("b")),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
        // But once seen, it cannot be undone.
        let h = vec![
            set_(0, 1, 2, "a"),
            set_unknown(1, 3, "b"),
            get(2, 10, 11, Some("b")),
            get(2, 12, 13, Some("a")),
        ];
        assert_eq!(check(&h), Verdict::NotLinearizable);
        // And it cannot take effect before it was invoked.
        let h = vec![
            set_(0, 1, 2, "a"),
            get(2, 3, 4, Some("b")),
            set_unknown(1, 5, "b"),
        ];
        assert_eq!(check(&h), Verdict::NotLinearizable);
    }

    #[test]
    fn counters() {
        let h = vec![
            incr(0, 1, Some(2), Some(1)),
            incr(1, 3, None, None),
            incr(2, 4, None, None),
            incr(0, 5, Some(6), Some(3)),
            get(3, 7, 8, Some("3")),
            incr(2, 9, Some(10), Some(5)),
        ];
        assert_eq!(check(&h), Verdict::Linearizable);
        // The same increment acknowledged twice (a retried write applied twice would look
        // the other way round: a count too high).
        let h = vec![incr(0, 1, Some(2), Some(1)), incr(1, 3, Some(4), Some(1))];
        assert_eq!(check(&h), Verdict::NotLinearizable);
        let h = vec![
            incr(0, 1, Some(2), Some(1)),
            incr(1, 3, None, None),
            incr(0, 5, Some(6), Some(4)),
        ];
        assert_eq!(check(&h), Verdict::NotLinearizable);
    }

    /// Many unknown operations must not make the search explode.
    #[test]
    fn many_unknown_operations_stay_cheap() {
        let mut h = Vec::new();
        let mut t = 0;
        for i in 0..200u64 {
            t += 1;
            h.push(incr(i as usize % 5, t, None, None));
        }
        t += 1;
        h.push(op(
            9,
            t,
            Some(t + 1),
            Input::Get,
            Output::Value(Some(Bytes::from("150"))),
        ));
        assert_eq!(check(&h), Verdict::Linearizable);
        let mut h2 = Vec::new();
        let values: Vec<String> = (0..200).map(|i| format!("v{i}")).collect();
        for (i, v) in values.iter().enumerate() {
            h2.push(op(
                i % 5,
                i as u64 * 2 + 1,
                None,
                Input::Set(Bytes::from(v.clone())),
                Output::Unknown,
            ));
        }
        h2.push(get(9, 1000, 1001, Some("v17")));
        assert_eq!(check(&h2), Verdict::Linearizable);
    }
}
