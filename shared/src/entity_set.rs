//! A client's view of every player, by id: the entity sets snapshots are built from and applied
//! to. The server keeps one per client per snapshot (64 deep) and clones one per client per
//! snapshot for the fog; the client applies each snapshot to a copy of its baseline. With hundreds
//! of players a tree of nodes made each of those an allocation per node and a pointer chase per
//! lookup; here a set is one sorted vector, so a copy is one `memcpy`, a drop one `free`, a walk
//! a slice scan and a lookup a binary search. The API is the map's, for the calls this project
//! makes.

use crate::player::PlayerId;
use crate::snapshot::EntityState;

/// Entity states by player id, in id order, each id once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntitySet {
    entries: Vec<(PlayerId, EntityState)>,
}

impl EntitySet {
    /// The empty set.
    pub fn new() -> EntitySet {
        EntitySet::default()
    }

    /// Players in the set.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, id: &PlayerId) -> Result<usize, usize> {
        self.entries.binary_search_by_key(id, |(k, _)| *k)
    }

    /// The state of player `id`.
    pub fn get(&self, id: &PlayerId) -> Option<&EntityState> {
        self.find(id).ok().map(|i| &self.entries[i].1)
    }

    /// The state of player `id`, to change.
    pub fn get_mut(&mut self, id: &PlayerId) -> Option<&mut EntityState> {
        self.find(id).ok().map(|i| &mut self.entries[i].1)
    }

    /// Whether player `id` is in the set.
    pub fn contains_key(&self, id: &PlayerId) -> bool {
        self.find(id).is_ok()
    }

    /// Sets player `id`'s state; returns the one it replaced.
    pub fn insert(&mut self, id: PlayerId, e: EntityState) -> Option<EntityState> {
        match self.find(&id) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, e)),
            Err(i) => {
                self.entries.insert(i, (id, e));
                None
            }
        }
    }

    /// Takes player `id` out of the set.
    pub fn remove(&mut self, id: &PlayerId) -> Option<EntityState> {
        self.find(id).ok().map(|i| self.entries.remove(i).1)
    }

    /// Keeps only the players `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(&PlayerId, &mut EntityState) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// The same players, each state replaced by `f(place, state)` (place = index in id order):
    /// one pass that writes the copy, where a clone and a walk over it were two.
    pub fn map_states(&self, mut f: impl FnMut(usize, &EntityState) -> EntityState) -> EntitySet {
        EntitySet {
            entries: self
                .entries
                .iter()
                .enumerate()
                .map(|(k, (id, e))| (*id, f(k, e)))
                .collect(),
        }
    }

    /// Every player, in id order.
    pub fn iter(&self) -> Iter<'_> {
        Iter(self.entries.iter())
    }

    /// Every player, in id order, to change.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = (&PlayerId, &mut EntityState)> + '_ {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// Every state, in id order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &EntityState> + ExactSizeIterator + Clone + '_ {
        self.entries.iter().map(|(_, v)| v)
    }

    /// Every state, in id order, to change.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut EntityState> + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// Every id, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &PlayerId> + ExactSizeIterator + Clone + '_ {
        self.entries.iter().map(|(k, _)| k)
    }
}

/// `EntitySet::iter`.
#[derive(Clone, Debug)]
pub struct Iter<'a>(std::slice::Iter<'a, (PlayerId, EntityState)>);

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a PlayerId, &'a EntityState);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|(k, v)| (k, v))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0.next_back().map(|(k, v)| (k, v))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a EntitySet {
    type Item = (&'a PlayerId, &'a EntityState);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl IntoIterator for EntitySet {
    type Item = (PlayerId, EntityState);
    type IntoIter = std::vec::IntoIter<(PlayerId, EntityState)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(PlayerId, EntityState)> for EntitySet {
    /// As a map would: in id order, and the last state given for an id wins. Input already in id
    /// order (the usual case) costs one pass.
    fn from_iter<I: IntoIterator<Item = (PlayerId, EntityState)>>(iter: I) -> EntitySet {
        let mut entries: Vec<(PlayerId, EntityState)> = iter.into_iter().collect();
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable, so equal ids keep their order and the last one is kept below.
            entries.sort_by_key(|(k, _)| *k);
            let mut out: Vec<(PlayerId, EntityState)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                match out.last_mut() {
                    Some(last) if last.0 == k => last.1 = v,
                    _ => out.push((k, v)),
                }
            }
            entries = out;
        }
        EntitySet { entries }
    }
}

impl<const N: usize> From<[(PlayerId, EntityState); N]> for EntitySet {
    fn from(a: [(PlayerId, EntityState); N]) -> EntitySet {
        a.into_iter().collect()
    }
}

impl Extend<(PlayerId, EntityState)> for EntitySet {
    fn extend<I: IntoIterator<Item = (PlayerId, EntityState)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_states_keeps_the_ids_and_their_order() {
        let s: EntitySet = [e(3, 30), e(1, 10), e(2, 20)].into();
        let m = s.map_states(|k, st| EntityState {
            pos: [st.pos[0] + k as i32, 0],
            ..*st
        });
        let got: Vec<(u16, i32)> = m.iter().map(|(id, st)| (id.0, st.pos[0])).collect();
        assert_eq!(got, vec![(1, 10), (2, 21), (3, 32)]);
    }

    fn e(id: u16, x: i32) -> (PlayerId, EntityState) {
        (
            PlayerId(id),
            EntityState {
                id: PlayerId(id),
                pos: [x, 0],
                ..EntityState::default()
            },
        )
    }

    #[test]
    fn behaves_as_a_map_in_id_order() {
        let mut s: EntitySet = [e(3, 30), e(1, 10), e(2, 20), e(1, 11)].into();
        assert_eq!(s.keys().map(|k| k.0).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(
            s.get(&PlayerId(1)).map(|v| v.pos[0]),
            Some(11),
            "the last one wins"
        );
        assert_eq!(s.insert(PlayerId(0), e(0, 0).1), None);
        assert_eq!(s.insert(PlayerId(2), e(2, 22).1).map(|v| v.pos[0]), Some(20));
        assert_eq!(s.remove(&PlayerId(3)).map(|v| v.pos[0]), Some(30));
        assert!(s.remove(&PlayerId(9)).is_none());
        assert_eq!(
            s.iter().map(|(k, v)| (k.0, v.pos[0])).collect::<Vec<_>>(),
            vec![(0, 0), (1, 11), (2, 22)]
        );
        s.retain(|k, _| k.0 != 1);
        assert_eq!(s.len(), 2);
        assert!(!s.contains_key(&PlayerId(1)));
    }
}
