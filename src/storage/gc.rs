//! Garbage collection of collection members: a compaction filter on `Cf::Subkey` and
//! `Cf::ZScore`.
//!
//! DEL or overwrite of a collection rewrites only its metadata, with a new version (O(1));
//! the members stored under the old version (`slot|db|keylen|key|version|...`) become
//! unreachable. When RocksDB compacts a member entry, the filter looks up the key's metadata
//! in `Cf::Meta` and drops the entry if the metadata is gone, is a string, or carries another
//! version (Kvrocks' SubKeyFilter does the same).
//!
//! Safe because a member and the metadata naming its version are always written in the same
//! RocksDB write batch, and versions only grow: an entry whose version differs from the live
//! metadata's can never become reachable again. Anything unexpected (a key that does not
//! parse, unreadable metadata, a read error, the database not open yet) keeps the entry.
//!
//! Members of an expired key are kept: the key is still there until the leader's expiry
//! deletes it, and only then are its members garbage.
//!
//! The filter reads the database it is compacting. It gets it through [`GcHandle`]: empty
//! while RocksDB opens (compactions may run during open: they keep everything), set once the
//! `DB` exists, and emptied under the write lock before the database closes, so a filter never
//! holds the last reference (dropping the `DB` inside a compaction thread would wait for that
//! very compaction).

use std::ffi::CStr;
use std::sync::{Arc, Weak};

use parking_lot::RwLock;
use rocksdb::compaction_filter::{CompactionFilter, Decision};
use rocksdb::compaction_filter_factory::{CompactionFilterContext, CompactionFilterFactory};
use rocksdb::DB;

use super::{Cf, RedisType};

/// The database the filters read metadata from (see the module docs).
#[derive(Clone, Default)]
pub struct GcHandle(Arc<RwLock<Option<Weak<DB>>>>);

impl GcHandle {
    /// Lets the filters read `db` from now on.
    pub fn attach(&self, db: &Arc<DB>) {
        *self.0.write() = Some(Arc::downgrade(db));
    }

    /// Stops the filters from reading the database; waits for lookups in progress. Call
    /// before dropping the last `Arc<DB>`.
    pub fn detach(&self) {
        *self.0.write() = None;
    }

    /// What the metadata of the collection prefix `meta_key` says, or None if the filter
    /// must keep the entry (database unavailable, read error, unreadable metadata).
    fn lookup(&self, meta_key: &[u8]) -> Option<Live> {
        let guard = self.0.read();
        let db = guard.as_ref()?.upgrade()?;
        let found = db
            .cf_handle(Cf::Meta.name())
            .map(|cf| db.get_cf(cf, meta_key));
        // The strong reference goes away while the read lock is still held: `detach` then
        // guarantees that the caller of `detach` owns the last one.
        drop(db);
        drop(guard);
        match found? {
            Err(_) => None,
            Ok(None) => Some(Live::Missing),
            Ok(Some(raw)) => live_version(&raw),
        }
    }
}

/// The live state of the key a member entry belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Live {
    /// No metadata, or a string: every member entry under the key is garbage.
    Missing,
    /// A collection with this version: only its members are live.
    Version(u64),
}

/// Reads type and version from raw metadata (layout in metadata.rs: `type(1) | expire(8) |
/// version(8) | ...` for collections).
fn live_version(raw: &[u8]) -> Option<Live> {
    let typ = RedisType::from_u8(*raw.first()?)?;
    if typ == RedisType::String {
        return Some(Live::Missing);
    }
    let v: [u8; 8] = raw.get(9..17)?.try_into().ok()?;
    Some(Live::Version(u64::from_be_bytes(v)))
}

/// Splits a member entry key `slot(2) | db(1) | keylen(4) | key | version(8) | suffix` into
/// the key's meta key (`slot | db | key`), the length of the `slot|db|keylen|key` prefix and
/// the version.
fn split_member_key(k: &[u8]) -> Option<(Vec<u8>, usize, u64)> {
    let keylen = u32::from_be_bytes(k.get(3..7)?.try_into().ok()?) as usize;
    let key_end = 7usize.checked_add(keylen)?;
    let key = k.get(7..key_end)?;
    let version = u64::from_be_bytes(k.get(key_end..key_end + 8)?.try_into().ok()?);
    let mut meta_key = Vec::with_capacity(3 + keylen);
    meta_key.extend_from_slice(&k[..3]);
    meta_key.extend_from_slice(key);
    Some((meta_key, key_end, version))
}

/// Creates one [`MemberFilter`] per compaction run.
pub struct MemberFilterFactory {
    handle: GcHandle,
}

impl MemberFilterFactory {
    pub fn new(handle: GcHandle) -> Self {
        MemberFilterFactory { handle }
    }
}

const NAME: &CStr = c"raftrocks.member_gc";

impl CompactionFilterFactory for MemberFilterFactory {
    type Filter = MemberFilter;

    fn create(&mut self, _context: CompactionFilterContext) -> MemberFilter {
        MemberFilter {
            handle: self.handle.clone(),
            last: None,
        }
    }

    fn name(&self) -> &CStr {
        NAME
    }
}

/// The filter of one compaction run (single-threaded). Compaction visits keys in order, so
/// a collection's members arrive together: the last lookup is cached by key prefix.
pub struct MemberFilter {
    handle: GcHandle,
    /// `slot|db|keylen|key` of the last looked-up collection, and what its metadata said.
    last: Option<(Vec<u8>, Live)>,
}

impl MemberFilter {
    fn decide(&mut self, key: &[u8]) -> Decision {
        let Some((meta_key, prefix_len, version)) = split_member_key(key) else {
            return Decision::Keep;
        };
        let prefix = &key[..prefix_len];
        let live = match &self.last {
            Some((p, live)) if p.as_slice() == prefix => *live,
            _ => {
                let Some(live) = self.handle.lookup(&meta_key) else {
                    return Decision::Keep;
                };
                self.last = Some((prefix.to_vec(), live));
                live
            }
        };
        match live {
            Live::Version(v) if v == version => Decision::Keep,
            _ => Decision::Remove,
        }
    }
}

impl CompactionFilter for MemberFilter {
    fn filter(&mut self, _level: u32, key: &[u8], _value: &[u8]) -> Decision {
        self.decide(key)
    }

    fn name(&self) -> &CStr {
        NAME
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::key_slot;
    use crate::storage::keys::{meta_key, subkey_prefix};
    use crate::storage::{Metadata, Storage};
    use rocksdb::WriteBatch;

    fn members(s: &Storage, cf: Cf) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        s.scan(cf, &[0], &[0xff, 0xff, 0xff], |k, _| {
            out.push(k.to_vec());
            true
        })
        .unwrap();
        out
    }

    fn collection(typ: RedisType, version: u64, size: u64) -> Metadata {
        Metadata {
            typ,
            expire_ms: 0,
            version,
            size,
            modified: 1,
            payload: Vec::new(),
        }
    }

    fn put_members(s: &Storage, b: &mut WriteBatch, key: &[u8], version: u64, n: u32) {
        let prefix = subkey_prefix(key_slot(key), 0, key, version);
        for i in 0..n {
            let mut k = prefix.clone();
            k.extend_from_slice(format!("field{i:05}").as_bytes());
            b.put_cf(s.cf(Cf::Subkey), &k, b"value");
            let mut z = prefix.clone();
            z.extend_from_slice(&(i as u64).to_be_bytes());
            z.extend_from_slice(format!("m{i}").as_bytes());
            b.put_cf(s.cf(Cf::ZScore), &z, b"");
        }
    }

    fn compact(s: &Storage) {
        for cf in [Cf::Subkey, Cf::ZScore] {
            s.db()
                .compact_range_cf(s.cf(cf), None::<&[u8]>, None::<&[u8]>);
        }
    }

    #[test]
    fn compaction_drops_members_of_old_versions_deleted_keys_and_strings() {
        let (_dir, s) = Storage::open_temp();
        let live = b"live".as_slice();
        let mut b = WriteBatch::default();
        // A live hash at version 7 with members of an earlier incarnation (version 3) left.
        let slot = key_slot(live);
        b.put_cf(
            s.cf(Cf::Meta),
            meta_key(slot, 0, live),
            collection(RedisType::Hash, 7, 500).encode(),
        );
        put_members(&s, &mut b, live, 7, 500);
        put_members(&s, &mut b, live, 3, 500);
        // A deleted collection (no metadata) and one overwritten by a string.
        put_members(&s, &mut b, b"gone", 9, 300);
        put_members(&s, &mut b, b"str", 4, 300);
        b.put_cf(
            s.cf(Cf::Meta),
            meta_key(key_slot(b"str"), 0, b"str"),
            Metadata::string(b"x".to_vec(), 0).encode(),
        );
        // The same key name in another database is another key.
        let mut other = WriteBatch::default();
        let p = subkey_prefix(slot, 1, live, 7);
        let mut k = p.clone();
        k.extend_from_slice(b"f");
        other.put_cf(s.cf(Cf::Subkey), &k, b"v");
        s.write(b).unwrap();
        s.write(other).unwrap();
        assert_eq!(members(&s, Cf::Subkey).len(), 500 * 2 + 300 * 2 + 1);

        compact(&s);

        let prefix = subkey_prefix(slot, 0, live, 7);
        for cf in [Cf::Subkey, Cf::ZScore] {
            let left = members(&s, cf);
            assert_eq!(left.len(), 500, "{cf:?}");
            assert!(left.iter().all(|k| k.starts_with(&prefix)), "{cf:?}");
        }
    }

    #[test]
    fn member_keys_parse_and_bad_ones_are_kept() {
        let p = subkey_prefix(crate::cluster::SlotId(5), 2, b"abc", 42);
        let mut k = p.clone();
        k.extend_from_slice(b"member");
        let (mk, plen, v) = split_member_key(&k).unwrap();
        assert_eq!(mk, meta_key(crate::cluster::SlotId(5), 2, b"abc"));
        assert_eq!(plen, p.len() - 8);
        assert_eq!(v, 42);
        assert!(split_member_key(&p[..p.len() - 1]).is_none());
        assert!(split_member_key(&[0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1]).is_none());
        // Without a database handle, everything is kept.
        let mut f = MemberFilter {
            handle: GcHandle::default(),
            last: None,
        };
        assert!(matches!(f.decide(&k), Decision::Keep));
        assert!(matches!(f.decide(b"x"), Decision::Keep));
        assert_eq!(
            live_version(&[1, 0, 0, 0, 0, 0, 0, 0, 0]),
            Some(Live::Missing)
        );
        assert_eq!(live_version(&[2, 0, 0]), None);
    }
}
