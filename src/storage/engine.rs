//! The node's one RocksDB: opening it with our column families and tuning, and the few
//! primitives the rest of the node uses (point reads, prefix scans, batch writes, WAL sync).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rocksdb::{
    BlockBasedOptions, Cache, ColumnFamilyDescriptor, DBCompressionType, Direction, IteratorMode,
    Options, ReadOptions, WriteBatch, WriteOptions, DB,
};

use super::compactor::{Compactor, Probe};
use super::gc::{GcHandle, MemberFilterFactory};
use super::{Cf, StorageError};

/// RocksDB sizing. Defaults suit a 1 GB machine: memory is bounded by the block cache plus
/// `write_buffer_mb * max_write_buffers` per active column family.
#[derive(Clone, Debug)]
pub struct StorageOptions {
    pub block_cache_mb: usize,
    pub write_buffer_mb: usize,
    pub max_write_buffers: i32,
    pub background_jobs: i32,
}

impl Default for StorageOptions {
    fn default() -> Self {
        StorageOptions {
            block_cache_mb: 128,
            write_buffer_mb: 32,
            max_write_buffers: 3,
            background_jobs: 2,
        }
    }
}

/// An owned key and value read from RocksDB.
pub type KeyValue = (Box<[u8]>, Box<[u8]>);

/// The opened database.
/// A RocksDB snapshot of a [`Storage`].
pub type Snapshot<'a> = rocksdb::SnapshotWithThreadMode<'a, DB>;

pub struct Storage {
    /// Shared only with the member GC filters, weakly (see `gc.rs`); this is the one strong
    /// reference that outlives a call.
    db: Arc<DB>,
    path: PathBuf,
    block_cache: Cache,
    gc: GcHandle,
    compactor: Compactor,
}

impl Drop for Storage {
    fn drop(&mut self) {
        self.compactor.stop();
        // Compaction filters must not be reading the database when it closes (and must not
        // hold the last reference): detach them first.
        self.gc.detach();
    }
}

impl Storage {
    /// Opens (creating if needed) the database under `dir/db`.
    pub fn open(dir: &Path, opts: &StorageOptions) -> Result<Storage, StorageError> {
        let path = dir.join("db");
        std::fs::create_dir_all(&path)?;
        let block_cache = Cache::new_lru_cache(opts.block_cache_mb.max(1) << 20);

        let mut db_opts = Options::default();
        db_opts.create_if_missing(true);
        db_opts.create_missing_column_families(true);
        db_opts.set_max_background_jobs(opts.background_jobs.max(1));
        // Old WAL files are kept until every column family has flushed past them; bound the
        // total so a rarely written CF (sm_meta) cannot pin gigabytes of WAL.
        db_opts.set_max_total_wal_size(256 << 20);
        db_opts.set_keep_log_file_num(4);
        db_opts.set_max_log_file_size(16 << 20);
        // Writes append to RocksDB's in-memory WAL buffer; only `sync_wal` (the WAL syncer
        // thread) writes it to the file and fsyncs. Without this every write() to the WAL file
        // lands on the page the running fdatasync is writing back, and the kernel makes the
        // writer wait for that I/O (stable pages): Raft appends and applies then stall behind
        // each fsync instead of batching up for the next one. Unsynced writes are not
        // acknowledged, so keeping them in memory a little longer loses nothing.
        db_opts.set_manual_wal_flush(true);

        let gc = GcHandle::default();
        let descriptors = Cf::ALL
            .iter()
            .map(|cf| {
                let mut o = cf_options(*cf, opts, &block_cache);
                if matches!(cf, Cf::Subkey | Cf::ZScore) {
                    // Drops members of deleted or overwritten collections (see gc.rs).
                    o.set_compaction_filter_factory(MemberFilterFactory::new(gc.clone()));
                }
                ColumnFamilyDescriptor::new(cf.name(), o)
            })
            .collect::<Vec<_>>();
        let db = Arc::new(DB::open_cf_descriptors(&db_opts, &path, descriptors)?);
        gc.attach(&db);
        let compactor = Compactor::start(&db);
        Ok(Storage {
            db,
            path,
            block_cache,
            gc,
            compactor,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn db(&self) -> &DB {
        &self.db
    }

    pub fn cf(&self, cf: Cf) -> &rocksdb::ColumnFamily {
        self.db
            .cf_handle(cf.name())
            .expect("invariant: every column family is created at open")
    }

    pub fn get(&self, cf: Cf, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        count_keys_read(1);
        Ok(self.db.get_cf(self.cf(cf), key)?)
    }

    /// Applies a batch without waiting for the disk; durability comes from [`Self::sync_wal`].
    pub fn write(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(false);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    /// fsyncs the write-ahead log: every write issued before this call is durable after it.
    pub fn sync_wal(&self) -> Result<(), StorageError> {
        self.db.flush_wal(true)?;
        Ok(())
    }

    /// Calls `f(key, value)` for keys in `[from, to)` in order until it returns false.
    pub fn scan(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        self.probed(cf, from, to, || {
            let mut ro = ReadOptions::default();
            ro.set_iterate_upper_bound(to.to_vec());
            let iter = self.db.iterator_cf_opt(
                self.cf(cf),
                ro,
                IteratorMode::From(from, Direction::Forward),
            );
            for item in iter {
                let (k, v) = item?;
                count_keys_read(1);
                if !f(&k, &v) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Runs a scan of `[from, to)` and queues the range for compaction if the scan stepped
    /// over too many tombstones (see `compactor.rs`).
    pub fn probed<T>(&self, cf: Cf, from: &[u8], to: &[u8], scan: impl FnOnce() -> T) -> T {
        let probe = Probe::start();
        let result = scan();
        self.compactor.note_scan(cf, from, to, probe.finish());
        result
    }

    /// Calls `f(key, value)` for keys in `[from, to)`, ascending or (if `reverse`) descending,
    /// until it returns false.
    pub fn scan_dir(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        self.scan_dir_at(None, cf, from, to, reverse, f)
    }

    /// A consistent view of the whole database: reads through it see the writes completed
    /// before it was taken and none after (multi-key reads such as MGET use one).
    pub fn snapshot(&self) -> Snapshot<'_> {
        self.db.snapshot()
    }

    /// A point read at `snapshot`.
    pub fn get_at(
        &self,
        snapshot: &Snapshot<'_>,
        cf: Cf,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StorageError> {
        count_keys_read(1);
        Ok(snapshot.get_cf(self.cf(cf), key)?)
    }

    /// [`Self::scan_dir`] at `snapshot` (None: the latest data).
    pub fn scan_dir_at(
        &self,
        snapshot: Option<&Snapshot<'_>>,
        cf: Cf,
        from: &[u8],
        to: &[u8],
        reverse: bool,
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        self.probed(cf, from, to, || {
            let mut ro = ReadOptions::default();
            if let Some(snap) = snapshot {
                ro.set_snapshot(snap);
            }
            ro.set_iterate_lower_bound(from.to_vec());
            ro.set_iterate_upper_bound(to.to_vec());
            let mut it = self.db.raw_iterator_cf_opt(self.cf(cf), ro);
            if reverse {
                it.seek_to_last();
            } else {
                it.seek_to_first();
            }
            while let Some((k, v)) = it.key().zip(it.value()) {
                count_keys_read(1);
                if !f(k, v) {
                    return Ok(());
                }
                if reverse {
                    it.prev();
                } else {
                    it.next();
                }
            }
            it.status()?;
            Ok(())
        })
    }

    /// The last key/value in `[from, to)`, if any.
    pub fn last_in_range(
        &self,
        cf: Cf,
        from: &[u8],
        to: &[u8],
    ) -> Result<Option<KeyValue>, StorageError> {
        self.probed(cf, from, to, || {
            let mut ro = ReadOptions::default();
            ro.set_iterate_lower_bound(from.to_vec());
            ro.set_iterate_upper_bound(to.to_vec());
            let mut iter = self.db.iterator_cf_opt(self.cf(cf), ro, IteratorMode::End);
            match iter.next() {
                Some(item) => Ok(Some(item?)),
                None => Ok(None),
            }
        })
    }

    /// A database with default options in a fresh temporary directory (dropped with the
    /// returned guard), for tests.
    #[cfg(test)]
    pub fn open_temp() -> (tempfile::TempDir, Storage) {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let s = Storage::open(dir.path(), &StorageOptions::default()).expect("open RocksDB");
        (dir, s)
    }

    /// Approximate memory held by RocksDB: memtables of all CFs plus the block cache.
    pub fn memory_usage(&self) -> u64 {
        let mut total = self.block_cache.get_usage() as u64;
        for cf in Cf::ALL {
            if let Ok(Some(v)) = self
                .db
                .property_int_value_cf(self.cf(cf), "rocksdb.cur-size-all-mem-tables")
            {
                total += v;
            }
        }
        total
    }

    /// Bytes of live SST files and WAL (approximate), for INFO persistence.
    pub fn disk_usage(&self) -> u64 {
        let mut total = 0;
        for cf in Cf::ALL {
            if let Ok(Some(v)) = self
                .db
                .property_int_value_cf(self.cf(cf), "rocksdb.live-sst-files-size")
            {
                total += v;
            }
        }
        total
    }
}

fn cf_options(cf: Cf, opts: &StorageOptions, cache: &Cache) -> Options {
    let mut o = Options::default();
    let mut table = BlockBasedOptions::default();
    table.set_block_cache(cache);
    table.set_cache_index_and_filter_blocks(true);
    table.set_pin_l0_filter_and_index_blocks_in_cache(true);
    table.set_format_version(5);
    match cf {
        Cf::Meta | Cf::Subkey | Cf::ZScore => {
            // Point lookups dominate (GET, EXISTS, member checks): bloom filters pay off.
            table.set_bloom_filter(10.0, false);
            table.set_block_size(16 << 10);
            o.set_write_buffer_size(opts.write_buffer_mb << 20);
            // A whole-key bloom filter per memtable (10% of its size): a lookup of a key that
            // lives in an older memtable or on disk skips the skiplist walk of the newer
            // memtables, the largest single cost of GET and of every write's metadata read in
            // profiles. Measured GET -c 50: about +8%.
            o.set_memtable_prefix_bloom_ratio(0.1);
            o.set_memtable_whole_key_filtering(true);
            o.set_max_write_buffer_number(opts.max_write_buffers.max(2));
            o.set_compression_type(DBCompressionType::Lz4);
            o.set_bottommost_compression_type(DBCompressionType::Zstd);
            o.set_level_compaction_dynamic_level_bytes(true);
        }
        Cf::Expire => {
            o.set_write_buffer_size(8 << 20);
            o.set_compression_type(DBCompressionType::Lz4);
        }
        Cf::RaftLog => {
            // Written once, read rarely (replication catch-up), deleted by range after
            // snapshots: no bloom filter, large buffers, light compression.
            o.set_write_buffer_size(opts.write_buffer_mb << 20);
            o.set_max_write_buffer_number(opts.max_write_buffers.max(2));
            o.set_compression_type(DBCompressionType::Lz4);
        }
        Cf::RaftMeta | Cf::SmMeta => {
            o.set_write_buffer_size(4 << 20);
        }
    }
    if Cf::DATA.contains(&cf) {
        // A flushed or compacted file in which deletes are dense anywhere (half of any run of
        // 4096 entries) is marked for compaction at once, instead of waiting for its level to
        // fill: scans through popped collection members and expired index entries stay cheap.
        // The memtable and hot ranges are handled by `compactor.rs`.
        o.add_compact_on_deletion_collector_factory(4096, 2048, 0.0);
    }
    o.set_block_based_table_factory(&table);
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_write_read_scan_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Storage::open(dir.path(), &StorageOptions::default()).unwrap();
            let mut b = WriteBatch::default();
            for i in 0u8..5 {
                b.put_cf(s.cf(Cf::Meta), [i], [i * 2]);
            }
            s.write(b).unwrap();
            s.sync_wal().unwrap();
            let mut seen = vec![];
            s.scan(Cf::Meta, &[1], &[4], |k, _| {
                seen.push(k[0]);
                true
            })
            .unwrap();
            assert_eq!(seen, vec![1, 2, 3]);
            let (k, _) = s.last_in_range(Cf::Meta, &[0], &[3]).unwrap().unwrap();
            assert_eq!(&*k, &[2]);
        }
        let s = Storage::open(dir.path(), &StorageOptions::default()).unwrap();
        assert_eq!(s.get(Cf::Meta, &[4]).unwrap(), Some(vec![8]));
        assert_eq!(s.get(Cf::Subkey, &[4]).unwrap(), None);
    }
}

thread_local! {
    /// RocksDB entries this thread has read (point reads and entries visited by scans). A
    /// thread-local counter costs nothing measurable and lets tests prove that an operation on
    /// one member of a huge collection reads a handful of entries, not the collection.
    static KEYS_READ: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Adds `n` to this thread's count of entries read.
pub fn count_keys_read(n: u64) {
    KEYS_READ.with(|c| c.set(c.get() + n));
}

/// RocksDB entries read by this thread so far (see [`count_keys_read`]).
pub fn keys_read() -> u64 {
    KEYS_READ.with(|c| c.get())
}
