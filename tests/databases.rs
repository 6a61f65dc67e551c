//! Logical databases 0..15: SELECT, isolation, MOVE / COPY DB / SWAPDB, FLUSHDB scope.

#[macro_use]
mod common;

use common::*;

#[tokio::test]
async fn select_range_and_errors() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    for db in 0..16 {
        assert_eq!(
            c.cmd(&["SELECT", &db.to_string()]),
            Reply::ok(),
            "SELECT {db}"
        );
    }
    // A failed SELECT leaves the current db unchanged (still 15).
    assert_eq!(c.cmd(&["SET", "where", "15"]), Reply::ok());
    assert_eq!(
        c.cmd(&["SELECT", "16"]),
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "-1"]),
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "1000000"]),
        Reply::err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "abc"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "1.0"]),
        Reply::err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT"]),
        Reply::err("ERR wrong number of arguments for 'select' command")
    );
    assert_eq!(
        c.cmd(&["SELECT", "1", "2"]),
        Reply::err("ERR wrong number of arguments for 'select' command")
    );
    assert_eq!(c.cmd(&["GET", "where"]), Reply::bulk("15"));
    // The selection is per connection.
    let mut other = srv.raw();
    assert_eq!(other.cmd(&["GET", "where"]), Reply::Nil);
}

#[tokio::test]
async fn keys_are_isolated_per_db() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    for db in 0..16 {
        assert_eq!(c.cmd(&["SELECT", &db.to_string()]), Reply::ok());
        assert_eq!(c.cmd(&["SET", "shared", &format!("v{db}")]), Reply::ok());
        for i in 0..db {
            assert_eq!(c.cmd(&["SET", &format!("k{i}"), "x"]), Reply::ok());
        }
    }
    for db in 0..16 {
        assert_eq!(c.cmd(&["SELECT", &db.to_string()]), Reply::ok());
        assert_eq!(
            c.cmd(&["GET", "shared"]),
            Reply::bulk(&format!("v{db}")),
            "db {db}"
        );
        assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(db as i64 + 1), "db {db}");
        assert_eq!(c.cmd(&["EXISTS", &format!("k{db}")]), Reply::Int(0));
        let keys = c.cmd(&["KEYS", "*"]);
        assert_eq!(keys.as_array().unwrap().len(), db + 1);
    }
    // DEL / EXPIRE in one db does not affect another.
    assert_eq!(c.cmd(&["SELECT", "3"]), Reply::ok());
    assert_eq!(c.cmd(&["DEL", "shared"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "4"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "shared"]), Reply::bulk("v4"));
    assert_eq!(c.cmd(&["EXPIRE", "shared", "100"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "5"]), Reply::ok());
    assert_eq!(c.cmd(&["TTL", "shared"]), Reply::Int(-1));

    // INFO keyspace lists each non-empty db.
    let info = srv.info("keyspace");
    for db in 0..16 {
        let want = if db == 3 { db } else { db + 1 };
        let line = info_field(&info, &format!("db{db}"))
            .unwrap_or_else(|| panic!("db{db} missing from INFO keyspace: {info:?}"));
        let expires = if db == 4 { 1 } else { 0 };
        assert!(
            line.starts_with(&format!("keys={want},expires={expires},")),
            "db{db}: {line}"
        );
    }
}

#[tokio::test]
async fn move_copy_swapdb_across_dbs() {
    let srv = TestServer::start();
    let mut c = srv.raw();

    // MOVE from db 2 to db 7.
    assert_eq!(c.cmd(&["SELECT", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "m", "moved"]), Reply::ok());
    assert_eq!(c.cmd(&["MOVE", "m", "7"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "m"]), Reply::Int(0));
    assert_eq!(c.cmd(&["SELECT", "7"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "m"]), Reply::bulk("moved"));
    // MOVE back to db 2 from db 7.
    assert_eq!(c.cmd(&["MOVE", "m", "2"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "2"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "m"]), Reply::bulk("moved"));
    assert_eq!(c.cmd(&["MOVE", "m", "15"]), Reply::Int(1));

    // COPY ... DB from db 15 to db 0 and db 9.
    assert_eq!(c.cmd(&["SELECT", "15"]), Reply::ok());
    assert_eq!(c.cmd(&["COPY", "m", "copied", "DB", "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["COPY", "m", "m", "DB", "9"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "copied"]), Reply::Int(0));
    assert_eq!(c.cmd(&["GET", "m"]), Reply::bulk("moved"));
    assert_eq!(c.cmd(&["SELECT", "0"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "copied"]), Reply::bulk("moved"));
    assert_eq!(c.cmd(&["SELECT", "9"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "m"]), Reply::bulk("moved"));
    // COPY to an occupied key in another db needs REPLACE.
    assert_eq!(c.cmd(&["SET", "m", "nine"]), Reply::ok());
    assert_eq!(c.cmd(&["COPY", "m", "copied", "DB", "0"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["COPY", "m", "copied", "DB", "0", "REPLACE"]),
        Reply::Int(1)
    );
    assert_eq!(c.cmd(&["SELECT", "0"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "copied"]), Reply::bulk("nine"));

    // SWAPDB 9 <-> 12, observed by a client that has db 12 selected.
    let mut watcher = srv.raw();
    assert_eq!(watcher.cmd(&["SELECT", "12"]), Reply::ok());
    assert_eq!(watcher.cmd(&["DBSIZE"]), Reply::Int(0));
    assert_eq!(c.cmd(&["SWAPDB", "9", "12"]), Reply::ok());
    assert_eq!(watcher.cmd(&["GET", "m"]), Reply::bulk("nine"));
    assert_eq!(watcher.cmd(&["DBSIZE"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "9"]), Reply::ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    // Swapping the current db of the caller itself.
    assert_eq!(c.cmd(&["SWAPDB", "9", "12"]), Reply::ok());
    assert_eq!(c.cmd(&["GET", "m"]), Reply::bulk("nine"));
    assert_eq!(watcher.cmd(&["DBSIZE"]), Reply::Int(0));
}

#[tokio::test]
async fn flushdb_only_selected_db() {
    let srv = TestServer::start();
    let mut c = srv.raw();
    for db in [0, 1, 5, 15] {
        assert_eq!(c.cmd(&["SELECT", &db.to_string()]), Reply::ok());
        assert_eq!(c.cmd(&["MSET", "a", "1", "b", "2"]), Reply::ok());
    }
    assert_eq!(c.cmd(&["SELECT", "5"]), Reply::ok());
    assert_eq!(c.cmd(&["FLUSHDB"]), Reply::ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    for db in [0, 1, 15] {
        assert_eq!(c.cmd(&["SELECT", &db.to_string()]), Reply::ok());
        assert_eq!(
            c.cmd(&["DBSIZE"]),
            Reply::Int(2),
            "db {db} must be untouched"
        );
    }
    // FLUSHALL from db 15 clears every db.
    assert_eq!(c.cmd(&["FLUSHALL"]), Reply::ok());
    for db in [0, 1, 5, 15] {
        assert_eq!(c.cmd(&["SELECT", &db.to_string()]), Reply::ok());
        assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0), "db {db}");
    }
    // A reconnecting client starts in db 0.
    assert_eq!(c.cmd(&["SELECT", "3"]), Reply::ok());
    assert_eq!(c.cmd(&["SET", "in3", "x"]), Reply::ok());
    let mut fresh = srv.raw();
    assert_eq!(fresh.cmd(&["EXISTS", "in3"]), Reply::Int(0));
}

#[tokio::test]
async fn client_library_db_selection() {
    // The redis crate selects the db from the URL on connect.
    let srv = TestServer::start();
    let mut c0 = srv.client_db(0).await;
    let mut c7 = srv.client_db(7).await;
    assert_eq!(qv(&mut c7, &["SET", "k", "seven"]).await, ok());
    assert_eq!(qv(&mut c0, &["GET", "k"]).await, nil());
    assert_eq!(qv(&mut c7, &["GET", "k"]).await, bulk("seven"));
    let id: i64 = q(&mut c7, &["CLIENT", "ID"]).await;
    let list: String = q(&mut c0, &["CLIENT", "LIST", "ID", &id.to_string()]).await;
    assert!(
        list.contains(" db=7 "),
        "CLIENT LIST should show db=7: {list}"
    );
}
