//! A read of several keys sees one instant: keys written together (MSET, a transaction) are
//! never seen half-updated, as with Redis' single thread. Before reads took a snapshot, MGET
//! read key by key and a write batch could land between two of its reads (seen as a=100,
//! b=120 while testing transactions).

#[macro_use]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::*;

#[test]
fn mget_never_sees_half_of_an_mset() {
    let srv = TestServer::start();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let mut c = srv.raw();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let v = i.to_string();
                assert_eq!(c.cmd(&["MSET", "a", &v, "b", &v, "c", &v]), Reply::ok());
            }
            i
        })
    };
    let mut c = srv.raw();
    for _ in 0..10_000 {
        let r = c.cmd(&["MGET", "a", "b", "c"]);
        let items = r.as_array().expect("array").to_vec();
        assert!(
            items.windows(2).all(|w| w[0] == w[1]),
            "MGET saw keys of different MSETs: {items:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer.join().expect("writer thread");
    assert!(writes > 0);
}
