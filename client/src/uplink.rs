//! The input stream up to the server: one input per local tick, resent until the server applied it.
//!
//! Input datagrams are unreliable, so each one repeats the inputs before it: a lost datagram costs
//! nothing as long as a later one arrives before the server needs the input. How many copies
//! depends on the loss measured (`copies_for`: enough that an input is lost with all its copies
//! less than once in 10,000 ticks, at least 3), not on the round trip: at 200 ms the server's
//! confirmation (`last_input` in its snapshots) comes a dozen inputs later, and repeating all of
//! them made the upstream larger than the downstream. Confirmed inputs are never repeated. The
//! inputs are coded against each other (`rewind_shared::input_run`).

use crate::view::ControlInput;
use rewind_shared::Vec2;
use rewind_shared::ack::AckWindow;
use rewind_shared::codec::{CodecError, encode};
use rewind_shared::input::{BUTTON_FIRE, Input, aim_from_dir};
use rewind_shared::protocol::{ClientDatagram, InputCmd, MAX_INPUTS_PER_PACKET};
use rewind_shared::tick::{Seq, Tick};
use std::collections::VecDeque;

/// The sending side of the inputs: sequence numbers and the redundant copies.
#[derive(Debug)]
pub struct Uplink {
    /// Sequence of the next input sent.
    next_seq: Seq,
    /// Inputs sent and not yet applied by the server, oldest first (what the next datagram repeats).
    unacked: VecDeque<InputCmd>,
    /// Newest input the server reported applied.
    last_applied: Option<Seq>,
    /// Inputs sent since the start.
    sent: u64,
    /// Copies of each input (the inputs one datagram carries).
    copies: usize,
    /// Ticks per second of the server (inputs per second).
    tick_rate: u32,
    /// Inputs queued by `hold` that no datagram has carried yet.
    held: usize,
}

impl Default for Uplink {
    fn default() -> Uplink {
        Uplink::new(60)
    }
}

impl Uplink {
    /// The uplink to a server at `tick_rate` (one input per tick).
    pub fn new(tick_rate: u32) -> Uplink {
        Uplink {
            next_seq: Seq(0),
            unacked: VecDeque::new(),
            last_applied: None,
            sent: 0,
            copies: min_copies(tick_rate),
            tick_rate,
            held: 0,
        }
    }

    /// The sequence the next `send` will use: a shot fired by that input is recorded under it
    /// before the input is sent, so the verdict can be matched.
    pub fn upcoming_seq(&self) -> Seq {
        self.next_seq
    }

    /// The server applied inputs up to `seq` (from a snapshot's `last_input`): they need no more
    /// copies. An older report than one seen already changes nothing.
    pub fn on_applied(&mut self, seq: Seq) {
        if self.last_applied.is_none_or(|l| seq.is_after(l)) {
            self.last_applied = Some(seq);
        }
    }

    /// Sets the copies from the loss measured on the link (a fraction).
    pub fn set_loss(&mut self, loss: f32) {
        self.copies = copies_for_rate(loss, self.tick_rate);
    }

    /// Copies of each input the datagrams carry now.
    pub fn copies(&self) -> usize {
        self.copies
    }

    /// Queues the input of `tick` under `upcoming_seq()` for the next `send`, which carries it
    /// whatever the copies (at most `MAX_INPUTS_PER_PACKET` in all): the ticks a forward clock
    /// jump skips are filled this way, so the server simulates what we predicted.
    pub fn hold(&mut self, tick: Tick, input: Input) {
        let seq = self.next_seq;
        self.next_seq = seq.next();
        self.sent += 1;
        self.unacked.push_back(InputCmd { seq, tick, input });
        self.held += 1;
    }

    /// Sends the input of `tick` under `upcoming_seq()`: the datagram carries it after the inputs
    /// the server has not applied yet (at most `MAX_INPUTS_PER_PACKET`, the oldest give way), and
    /// `ack` says which snapshots arrived, so the server can pick delta baselines.
    pub fn send(&mut self, tick: Tick, input: Input, ack: AckWindow) -> Result<Vec<u8>, CodecError> {
        let seq = self.next_seq;
        self.next_seq = seq.next();
        self.sent += 1;
        self.unacked.push_back(InputCmd { seq, tick, input });
        if let Some(applied) = self.last_applied {
            self.unacked.retain(|c| c.seq.is_after(applied));
        }
        while self.unacked.len() > MAX_INPUTS_PER_PACKET {
            self.unacked.pop_front();
        }
        let carry = self.copies.max(std::mem::take(&mut self.held) + 1);
        let skip = self.unacked.len().saturating_sub(carry);
        encode(&ClientDatagram::Inputs {
            ack,
            inputs: self.unacked.iter().skip(skip).copied().collect(),
        })
    }

    /// Inputs sent since the start (one per local tick).
    pub fn sent(&self) -> u64 {
        self.sent
    }
}

/// Fewest copies of each input, whatever the measured loss: the estimate lags a change of link,
/// and two datagrams lost in a row must still cost nothing.
pub const MIN_COPIES: usize = 3;

/// Copies of each input such that, at independent loss `p`, all of them are lost less than once
/// in 10,000 inputs: `ceil(ln 1e-4 / ln p)`, at least `MIN_COPIES`, at most what a datagram holds.
pub fn copies_for(p: f32) -> usize {
    copies_for_rate(p, 60)
}

/// The fewest copies at `tick_rate`: `MIN_COPIES` at 60 Hz and below, the same time above (6 at
/// 128 Hz: 47 ms of datagrams rather than 23). The loss estimate is noisy (measured at 5 % loss it
/// ranged 3.2–5.8 % over one match), and with 3 copies at 128 Hz three datagrams lost in a row
/// cost an input about every 20 s among 8 clients in the Pair harness. A repeated input costs a
/// byte or two (`input_run`).
pub fn min_copies(tick_rate: u32) -> usize {
    let scaled = (MIN_COPIES as f64 * f64::from(tick_rate) / 60.0).round() as usize;
    scaled.clamp(MIN_COPIES, MAX_INPUTS_PER_PACKET)
}

/// `copies_for` at `tick_rate` inputs a second: above 60 Hz the target is the same in time (an
/// input lost with all its copies less than once per 10,000 ticks of 60 Hz, 167 s), so at 128 Hz
/// less than once in 21,333 inputs. Counted per input, twice the inputs would lose twice as many
/// a second, each a correction (measured in the Pair harness at 128 Hz and 5 % loss: 3 copies
/// where 4 were needed, and missing inputs).
pub fn copies_for_rate(p: f32, tick_rate: u32) -> usize {
    let least = min_copies(tick_rate);
    if p.is_nan() || p <= 0.0 {
        return least;
    }
    if p >= 1.0 {
        return MAX_INPUTS_PER_PACKET;
    }
    let target = 1e-4 * (60.0 / f64::from(tick_rate.max(1))).min(1.0);
    let n = (target.ln() / f64::from(p).ln()).ceil();
    (n as usize).clamp(least, MAX_INPUTS_PER_PACKET)
}

/// The input the controls of one tick stand for: axes and aim quantized as the wire carries them
/// (the predictor then fills in the view a shot carries).
pub fn input_of(control: &ControlInput) -> Input {
    Input {
        mv: [axis(control.mv.x), axis(control.mv.y)],
        aim: if control.aim == Vec2::ZERO {
            [0, 0]
        } else {
            aim_from_dir(control.aim)
        },
        buttons: if control.fire { BUTTON_FIRE } else { 0 },
        view: None,
    }
}

/// A movement axis in -1..=1 as the `i8` the wire carries.
fn axis(v: f32) -> i8 {
    (v.clamp(-1.0, 1.0) * 127.0).round() as i8
}

#[cfg(test)]
mod tests {
    use super::*;
    use rewind_shared::codec::decode;
    use rewind_shared::protocol::MAX_DATAGRAM;

    /// Sends one input for tick `100 + seq` and returns the sequences the datagram carried.
    fn send(up: &mut Uplink) -> Vec<u16> {
        let tick = Tick(100 + u32::from(up.upcoming_seq().0));
        let bytes = up
            .send(tick, Input::default(), AckWindow::default())
            .expect("encode");
        let ClientDatagram::Inputs { inputs, .. } = decode(&bytes, MAX_DATAGRAM).expect("decode");
        for c in &inputs {
            assert_eq!(
                c.tick,
                Tick(100 + u32::from(c.seq.0)),
                "each input keeps its tick"
            );
        }
        inputs.iter().map(|c| c.seq.0).collect()
    }

    #[test]
    fn recent_unapplied_inputs_are_repeated_oldest_first() {
        let mut up = Uplink::default();
        assert_eq!(send(&mut up), vec![0]);
        assert_eq!(send(&mut up), vec![0, 1]);
        assert_eq!(send(&mut up), vec![0, 1, 2]);
        assert_eq!(send(&mut up), vec![1, 2, 3], "MIN_COPIES on a clean link");
        assert_eq!(up.upcoming_seq(), Seq(4));
        assert_eq!(up.sent(), 4);
    }

    /// Inputs held for a clock jump's gap all travel in the next datagram, beyond the copies.
    #[test]
    fn held_inputs_go_out_with_the_next_datagram() {
        let mut up = Uplink::default();
        for _ in 0..4 {
            send(&mut up);
        }
        for seq in 4..9 {
            up.hold(Tick(100 + seq), Input::default());
        }
        assert_eq!(send(&mut up), vec![4, 5, 6, 7, 8, 9]);
        assert_eq!(send(&mut up), vec![8, 9, 10], "then the copies again");
        assert_eq!(up.sent(), 11);
    }

    #[test]
    fn applied_inputs_are_dropped_from_the_next_datagram() {
        let mut up = Uplink::default();
        for _ in 0..4 {
            send(&mut up);
        }
        up.on_applied(Seq(2));
        assert_eq!(send(&mut up), vec![3, 4]);
        // A snapshot that was overtaken reports an older input: nothing comes back.
        up.on_applied(Seq(1));
        assert_eq!(send(&mut up), vec![3, 4, 5]);
        up.on_applied(Seq(5));
        assert_eq!(send(&mut up), vec![6]);
    }

    #[test]
    fn redundancy_follows_the_measured_loss_not_the_round_trip() {
        let mut up = Uplink::default();
        for _ in 0..20 {
            send(&mut up);
        }
        // Nothing confirmed yet (a long round trip): still only MIN_COPIES on a clean link.
        assert_eq!(send(&mut up), vec![18, 19, 20]);
        up.set_loss(0.05);
        assert_eq!(up.copies(), 4);
        assert_eq!(send(&mut up), vec![18, 19, 20, 21]);
        up.set_loss(1.0);
        let carried = send(&mut up);
        assert_eq!(carried.len(), MAX_INPUTS_PER_PACKET);
        assert_eq!(carried.last(), Some(&22));
    }

    #[test]
    fn copies_grow_with_loss() {
        assert_eq!(copies_for(0.0), MIN_COPIES);
        assert_eq!(copies_for(f32::NAN), MIN_COPIES);
        assert_eq!(copies_for(0.01), MIN_COPIES);
        assert_eq!(copies_for(0.05), 4);
        assert_eq!(copies_for(0.2), 6);
        assert_eq!(copies_for(0.9), MAX_INPUTS_PER_PACKET);
        // At 128 Hz the same time: at least 6 copies (47 ms), and the loss target per second.
        assert_eq!(min_copies(60), MIN_COPIES);
        assert_eq!(min_copies(30), MIN_COPIES, "never fewer than at 60 Hz");
        assert_eq!(min_copies(128), 6);
        assert_eq!(copies_for_rate(0.05, 60), copies_for(0.05));
        assert_eq!(copies_for_rate(0.0, 128), 6);
        assert_eq!(copies_for_rate(0.2, 60), 6);
        assert_eq!(
            copies_for_rate(0.2, 128),
            7,
            "1e-4 per 167 s, not per 10,000 inputs"
        );
        let mut up = Uplink::new(128);
        assert_eq!(up.copies(), 6);
        up.set_loss(0.05);
        assert_eq!(up.copies(), 6);
    }

    #[test]
    fn applied_is_compared_across_the_sequence_wrap() {
        let mut up = Uplink {
            next_seq: Seq(u16::MAX - 1),
            ..Uplink::default()
        };
        let seqs: Vec<Seq> = (0..4)
            .map(|_| {
                let s = up.upcoming_seq();
                up.send(Tick(1), Input::default(), AckWindow::default())
                    .expect("encode");
                s
            })
            .collect();
        assert_eq!(seqs, vec![Seq(u16::MAX - 1), Seq(u16::MAX), Seq(0), Seq(1)]);
        up.on_applied(Seq(u16::MAX));
        let bytes = up
            .send(Tick(1), Input::default(), AckWindow::default())
            .expect("encode");
        let ClientDatagram::Inputs { inputs, .. } = decode(&bytes, MAX_DATAGRAM).expect("decode");
        let carried: Vec<Seq> = inputs.iter().map(|c| c.seq).collect();
        assert_eq!(carried, vec![Seq(0), Seq(1), Seq(2)], "0 comes after 65535");
    }

    #[test]
    fn the_datagram_carries_the_snapshot_acks() {
        let mut up = Uplink::default();
        let mut ack = AckWindow::default();
        ack.record(Seq(7));
        let bytes = up.send(Tick(1), Input::default(), ack).expect("encode");
        let ClientDatagram::Inputs { ack: sent, .. } = decode(&bytes, MAX_DATAGRAM).expect("decode");
        assert_eq!(sent, ack);
    }

    #[test]
    fn controls_are_clamped_and_quantized() {
        let c = ControlInput {
            mv: Vec2::new(2.0, -0.5),
            fire: true,
            ..ControlInput::default()
        };
        let i = input_of(&c);
        assert_eq!(i.mv, [127, -64]);
        assert_eq!(i.aim, [0, 0], "no aim stays no aim");
        assert_eq!(i.buttons, BUTTON_FIRE);
    }
}
