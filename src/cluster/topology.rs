//! Slot -> slot group map.
//!
//! Slots are split into contiguous ranges, one per slot group, so that a group's data is a few
//! contiguous key ranges in RocksDB (data keys start with the slot id). The map is immutable and
//! shared; ownership changes (a later issue) swap in a new map.

use super::slot::{SlotId, SLOT_COUNT};

/// A slot group, i.e. one Raft group. Group ids start at 1 (0 is reserved for the cluster map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupId(pub u64);

impl std::fmt::Display for GroupId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "g{}", self.0)
    }
}

/// Which slot group serves each slot.
#[derive(Clone, Debug)]
pub struct Topology {
    /// `slot_to_group[slot]` is an index into `groups`.
    slot_to_group: Vec<u16>,
    groups: Vec<GroupInfo>,
}

/// One slot group and the slot ranges it serves (inclusive bounds, ascending).
#[derive(Clone, Debug)]
pub struct GroupInfo {
    pub id: GroupId,
    pub ranges: Vec<(u16, u16)>,
}

impl Topology {
    /// Splits the 16384 slots evenly into `groups` contiguous ranges (groups 1..=n).
    pub fn even(groups: u16) -> Topology {
        let n = groups.clamp(1, 1024);
        let mut slot_to_group = Vec::with_capacity(SLOT_COUNT as usize);
        let mut infos = Vec::with_capacity(n as usize);
        let per = SLOT_COUNT as u32 / n as u32;
        let extra = SLOT_COUNT as u32 % n as u32;
        let mut start = 0u32;
        for i in 0..n as u32 {
            let len = per + u32::from(i < extra);
            let end = start + len - 1;
            infos.push(GroupInfo {
                id: GroupId(i as u64 + 1),
                ranges: vec![(start as u16, end as u16)],
            });
            for _ in start..=end {
                slot_to_group.push(i as u16);
            }
            start = end + 1;
        }
        Topology {
            slot_to_group,
            groups: infos,
        }
    }

    /// A map from explicit groups (the cluster map's). Slots no group lists fall to the
    /// first group; the cluster map always covers every slot, this only keeps lookups total.
    pub fn from_groups(mut groups: Vec<(GroupId, Vec<(u16, u16)>)>) -> Topology {
        groups.sort_by_key(|g| g.0);
        if groups.is_empty() {
            return Topology::even(1);
        }
        let mut slot_to_group = vec![0u16; SLOT_COUNT as usize];
        for (i, (_, ranges)) in groups.iter().enumerate() {
            for &(lo, hi) in ranges {
                for s in lo..=hi.min(SLOT_COUNT - 1) {
                    slot_to_group[s as usize] = i as u16;
                }
            }
        }
        Topology {
            slot_to_group,
            groups: groups
                .into_iter()
                .map(|(id, ranges)| GroupInfo { id, ranges })
                .collect(),
        }
    }

    /// The group serving `slot`.
    pub fn group_of(&self, slot: SlotId) -> GroupId {
        self.groups[self.slot_to_group[slot.0 as usize] as usize].id
    }

    /// All groups, in id order.
    pub fn groups(&self) -> &[GroupInfo] {
        &self.groups
    }

    /// The slot ranges of one group (empty if the group is unknown).
    pub fn ranges_of(&self, group: GroupId) -> &[(u16, u16)] {
        self.groups
            .iter()
            .find(|g| g.id == group)
            .map(|g| g.ranges.as_slice())
            .unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn even_split_covers_every_slot_once() {
        for n in [1u16, 3, 4, 7, 16] {
            let t = Topology::even(n);
            assert_eq!(t.groups().len(), n as usize);
            let mut next = 0u32;
            for g in t.groups() {
                for &(lo, hi) in &g.ranges {
                    assert_eq!(lo as u32, next);
                    next = hi as u32 + 1;
                    assert_eq!(t.group_of(SlotId(lo)), g.id);
                    assert_eq!(t.group_of(SlotId(hi)), g.id);
                }
            }
            assert_eq!(next, SLOT_COUNT as u32);
        }
    }
}
