//! What the HUD tells about the match around the player: who is who, who killed whom, what was
//! said, and where our shots flew.
//!
//! These come from the reliable control stream (events) and from our own shots, not from
//! snapshots, and they only live for the screen: a few lines and a quarter second of tracer.
//! The window's drawing of them is `game::hud`.

use crate::view::{FeedLine, MatchOverView, ScoreRow, Tracer};
use rewind_shared::Vec2;
use rewind_shared::player::PlayerId;
use rewind_shared::protocol::GameEvent;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// Lines kept in the kill feed and chat.
const FEED_LINES: usize = 8;
/// How long tracers stay.
const TRACER_LIFE: Duration = Duration::from_millis(250);

/// One shot's line on the screen.
#[derive(Clone, Copy, Debug)]
struct Trace {
    from: Vec2,
    to: Vec2,
    local: bool,
    at: Duration,
}

/// Names, kill feed, chat and tracers.
#[derive(Debug)]
pub struct Feed {
    /// Names by player, from the welcome's roster and the join and leave events.
    names: BTreeMap<PlayerId, String>,
    /// Joins, leaves and kills, oldest first, with when they happened.
    kills: VecDeque<(String, Duration)>,
    /// Chat lines, oldest first.
    chat: VecDeque<(String, Duration)>,
    /// Shots of the last `TRACER_LIFE`, oldest first.
    tracers: VecDeque<Trace>,
    /// The last match's final scoreboard and when it came, until a new match starts.
    match_over: Option<(MatchOverView, Duration)>,
}

impl Feed {
    /// A feed knowing the players of the welcome's `roster`; `me` is called "me" if the roster
    /// does not name us.
    pub fn new(roster: &[(PlayerId, String)], me: PlayerId) -> Feed {
        let mut names: BTreeMap<PlayerId, String> = roster.iter().cloned().collect();
        names.entry(me).or_insert_with(|| "me".to_string());
        Feed {
            names,
            kills: VecDeque::new(),
            chat: VecDeque::new(),
            tracers: VecDeque::new(),
            match_over: None,
        }
    }

    /// The roster of a new welcome (after a resume: joins and leaves during the outage were
    /// never told). Lines already shown stay.
    pub fn set_roster(&mut self, roster: &[(PlayerId, String)], me: PlayerId) {
        let mine = self.names.get(&me).cloned();
        self.names = roster.iter().cloned().collect();
        if let Some(n) = mine {
            self.names.entry(me).or_insert(n);
        }
    }

    /// The name to show for `id` (its number if we never learned its name).
    pub fn name(&self, id: PlayerId) -> String {
        self.names.get(&id).cloned().unwrap_or_else(|| id.to_string())
    }

    /// A game event from the control stream, at `now`: a line in the kill feed or chat (a leave
    /// is still told with the name before it is forgotten).
    pub fn on_event(&mut self, ev: GameEvent, now: Duration) {
        let line = match ev {
            GameEvent::Notice { text } => {
                push_line(&mut self.chat, format!("server: {text}"), now);
                return;
            }
            GameEvent::Join { id, name } => {
                let l = format!("{name} joined");
                self.names.insert(id, name);
                l
            }
            GameEvent::Leave { id, reason } => {
                let l = format!("{} left ({reason})", self.name(id));
                self.names.remove(&id);
                l
            }
            GameEvent::Kill { killer, victim } => {
                format!("{} killed {}", self.name(killer), self.name(victim))
            }
            GameEvent::Chat { from, text } => {
                let line = format!("{}: {text}", self.name(from));
                push_line(&mut self.chat, line, now);
                return;
            }
            GameEvent::MatchOver {
                reason,
                scores,
                next_in_ms,
            } => {
                let rows = scores
                    .into_iter()
                    .map(|(id, kills, deaths)| ScoreRow {
                        id,
                        name: self.name(id),
                        kills,
                        deaths,
                        ping_ms: None,
                    })
                    .collect::<Vec<_>>();
                let line = match rows.as_slice() {
                    [a, b, ..] if a.kills == b.kills => format!("match over: a draw ({reason})"),
                    [a, ..] => format!("match over: {} wins ({reason})", a.name),
                    [] => format!("match over ({reason})"),
                };
                let next_in_s = next_in_ms.map(|ms| ms as f32 / 1000.0);
                self.match_over = Some((
                    MatchOverView {
                        reason,
                        rows,
                        next_in_s,
                    },
                    now,
                ));
                line
            }
            GameEvent::MatchStart {
                number,
                score_limit,
                time_limit_s,
            } => {
                self.match_over = None;
                let mut line = format!("match {number}");
                if let Some(n) = score_limit {
                    line += &format!(": first to {n} kills");
                }
                if let Some(s) = time_limit_s {
                    line += &format!(", {}:{:02} to play", s / 60, s % 60);
                }
                line
            }
        };
        push_line(&mut self.kills, line, now);
    }

    /// A shot from `from` to `to` at `now` (`local`: ours), shown for `TRACER_LIFE`.
    pub fn tracer(&mut self, from: Vec2, to: Vec2, local: bool, now: Duration) {
        self.tracers.push_back(Trace {
            from,
            to,
            local,
            at: now,
        });
    }

    /// Forgets tracers older than `TRACER_LIFE` at `now`.
    pub fn expire(&mut self, now: Duration) {
        let cut = now.saturating_sub(TRACER_LIFE);
        while self.tracers.front().is_some_and(|t| t.at < cut) {
            self.tracers.pop_front();
        }
    }

    /// The last match's final scoreboard, with the countdown to the next match at `now`; `None`
    /// while a match is on.
    pub fn match_over(&self, now: Duration) -> Option<MatchOverView> {
        self.match_over.as_ref().map(|(m, at)| MatchOverView {
            next_in_s: m
                .next_in_s
                .map(|s| (s - now.saturating_sub(*at).as_secs_f32()).max(0.0)),
            ..m.clone()
        })
    }

    /// Whether a match ended and the next has not started (the server ignores inputs then).
    pub fn between_matches(&self) -> bool {
        self.match_over.is_some()
    }

    /// The kill feed at `now`, oldest first.
    pub fn kill_feed(&self, now: Duration) -> Vec<FeedLine> {
        lines(&self.kills, now)
    }

    /// The chat at `now`, oldest first.
    pub fn chat(&self, now: Duration) -> Vec<FeedLine> {
        lines(&self.chat, now)
    }

    /// The tracers at `now`, with their age.
    pub fn tracers(&self, now: Duration) -> Vec<Tracer> {
        self.tracers
            .iter()
            .map(|t| Tracer {
                from: t.from,
                to: t.to,
                local: t.local,
                age_s: now.saturating_sub(t.at).as_secs_f32(),
            })
            .collect()
    }
}

fn push_line(q: &mut VecDeque<(String, Duration)>, text: String, now: Duration) {
    if q.len() >= FEED_LINES {
        q.pop_front();
    }
    q.push_back((text, now));
}

fn lines(q: &VecDeque<(String, Duration)>, now: Duration) -> Vec<FeedLine> {
    q.iter()
        .map(|(text, at)| FeedLine {
            text: text.clone(),
            age_s: now.saturating_sub(*at).as_secs_f32(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: PlayerId = PlayerId(1);
    const ANN: PlayerId = PlayerId(2);
    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn texts(l: Vec<FeedLine>) -> Vec<String> {
        l.into_iter().map(|l| l.text).collect()
    }

    #[test]
    fn the_final_scoreboard_stays_until_the_next_match_starts() {
        let mut f = Feed::new(&[(ME, "me".into()), (ANN, "Ann".into())], ME);
        assert!(f.match_over(MS(0)).is_none());
        f.on_event(
            GameEvent::MatchOver {
                reason: "score limit 5 reached".into(),
                scores: vec![(ANN, 5, 1), (ME, 1, 5)],
                next_in_ms: Some(10_000),
            },
            MS(1000),
        );
        let m = f.match_over(MS(4000)).expect("shown");
        assert_eq!(m.rows[0].name, "Ann");
        assert_eq!((m.rows[0].kills, m.rows[1].deaths), (5, 5));
        assert_eq!(m.next_in_s, Some(7.0));
        assert_eq!(
            texts(f.kill_feed(MS(4000))),
            vec!["match over: Ann wins (score limit 5 reached)"]
        );
        f.on_event(
            GameEvent::MatchStart {
                number: 2,
                score_limit: Some(5),
                time_limit_s: Some(600),
            },
            MS(11_000),
        );
        assert!(f.match_over(MS(11_000)).is_none());
        assert_eq!(
            texts(f.kill_feed(MS(11_000)))[1],
            "match 2: first to 5 kills, 10:00 to play"
        );
    }

    #[test]
    fn names_follow_the_roster_and_the_events() {
        let mut f = Feed::new(&[(ANN, "ann".to_string())], ME);
        assert_eq!(f.name(ME), "me");
        f.on_event(
            GameEvent::Join {
                id: PlayerId(3),
                name: "bob".to_string(),
            },
            MS(0),
        );
        f.on_event(
            GameEvent::Kill {
                killer: PlayerId(3),
                victim: ANN,
            },
            MS(10),
        );
        f.on_event(
            GameEvent::Leave {
                id: ANN,
                reason: "quit".to_string(),
            },
            MS(20),
        );
        f.on_event(
            GameEvent::Kill {
                killer: ME,
                victim: ANN,
            },
            MS(30),
        );
        assert_eq!(
            texts(f.kill_feed(MS(30))),
            vec!["bob joined", "bob killed ann", "ann left (quit)", "me killed #2"]
        );
        assert!(f.chat(MS(30)).is_empty());
    }

    #[test]
    fn chat_has_its_own_lines_and_both_keep_the_newest() {
        let mut f = Feed::new(&[], ME);
        for i in 0..FEED_LINES + 2 {
            f.on_event(
                GameEvent::Chat {
                    from: ME,
                    text: format!("{i}"),
                },
                MS(i as u64),
            );
        }
        let chat = f.chat(MS(1000));
        assert_eq!(chat.len(), FEED_LINES);
        assert_eq!(chat.first().map(|l| l.text.as_str()), Some("me: 2"));
        let newest = chat.last().expect("lines");
        assert_eq!(newest.text, "me: 9");
        assert!((newest.age_s - 0.991).abs() < 1e-6, "{}", newest.age_s);
        assert!(f.kill_feed(MS(1000)).is_empty());
    }

    #[test]
    fn tracers_last_a_quarter_second() {
        let mut f = Feed::new(&[], ME);
        f.tracer(Vec2::ZERO, Vec2::X, true, MS(0));
        f.tracer(Vec2::ZERO, Vec2::Y, false, MS(100));
        f.expire(MS(250));
        assert_eq!(f.tracers(MS(250)).len(), 2, "exactly TRACER_LIFE old stays");
        f.expire(MS(251));
        let left = f.tracers(MS(300));
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].to, left[0].local), (Vec2::Y, false));
        assert!((left[0].age_s - 0.2).abs() < 1e-6, "{}", left[0].age_s);
    }
}
