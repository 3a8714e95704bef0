//! Screen-space HUD: names and health bars over players, damage numbers, our health, kill feed,
//! chat, scoreboard (Tab), respawn timer, crosshair, the link-conditioner overlay and the sound
//! settings line.

use super::effects::{DamagePopup, Effects, HURT_S, POPUP_S};
use super::link;
use super::palette::{self, fade};
use super::text;
use crate::view::{DrawnPlayer, FeedLine, GameView, ScoreRow};
use macroquad::color::Color;
use macroquad::shapes::{draw_circle_lines, draw_line, draw_rectangle};
use rewind_shared::Vec2;
use rewind_shared::conditioner::LinkConfig;
use rewind_shared::sim::{MAX_HEALTH, PLAYER_RADIUS};

/// Kill-feed lines older than this are hidden.
pub const FEED_S: f32 = 6.0;
/// Chat lines older than this are hidden (unless typing).
pub const CHAT_S: f32 = 12.0;
/// Chat lines shown at most.
pub const CHAT_LINES: usize = 8;

/// Alpha for a line of age `age` shown for `life` seconds, fading in the last second.
pub fn line_alpha(age: f32, life: f32) -> f32 {
    (life - age).clamp(0.0, 1.0)
}

/// Name and health bar above a player; `to_screen` maps world to screen, `ppu` is pixels per unit.
pub fn draw_label(p: &DrawnPlayer, to_screen: &dyn Fn(Vec2) -> Vec2, ppu: f32) {
    let s = to_screen(p.pos);
    let top = s.y - (PLAYER_RADIUS + 8.0) * ppu;
    let c = palette::player_colour(p.id.0, p.local);
    let name_c = if p.alive {
        Color::new(c.r, c.g, c.b, 0.95)
    } else {
        fade(c, 0.45)
    };
    text::draw_centered(&p.name, s.x, top - 8.0, 16.0, name_c);
    if !p.alive {
        return;
    }
    let (w, h) = (38.0, 5.0);
    let frac = f32::from(p.health.min(MAX_HEALTH)) / f32::from(MAX_HEALTH);
    draw_rectangle(
        s.x - w / 2.0 - 1.0,
        top - 4.0,
        w + 2.0,
        h + 2.0,
        Color::new(0.0, 0.0, 0.0, 0.7),
    );
    let fill = if frac <= 0.25 {
        palette::HEALTH_LOW
    } else {
        palette::HEALTH
    };
    draw_rectangle(s.x - w / 2.0, top - 3.0, w * frac, h, fill);
}

/// A floating damage number, rising and fading.
pub fn draw_popup(p: &DamagePopup, index: usize, to_screen: &dyn Fn(Vec2) -> Vec2) {
    let s = to_screen(p.pos);
    let k = p.age_s / POPUP_S;
    // Spread numbers that start at the same place (several hits in a row) sideways.
    let s = Vec2::new(s.x + (index % 3) as f32 * 14.0, s.y);
    let c = if p.local {
        palette::HIT_DENIED
    } else {
        Color::new(1.0, 0.92, 0.5, 1.0)
    };
    text::draw_centered(
        &format!("-{}", p.amount),
        s.x + 18.0,
        s.y - 20.0 - 30.0 * k,
        20.0,
        fade(c, 1.0 - k),
    );
}

/// Red screen edges when we were just hit.
pub fn draw_hurt(effects: &Effects, w: f32, h: f32) {
    if effects.hurt_s <= 0.0 {
        return;
    }
    let a = effects.hurt_s / HURT_S;
    // Nested translucent bands: strongest at the very edge, fading inward.
    for i in 0..5 {
        let t = 4.0 + i as f32 * 6.0;
        let c = Color::new(0.9, 0.05, 0.05, 0.07 * a);
        draw_rectangle(0.0, 0.0, w, t, c);
        draw_rectangle(0.0, h - t, w, t, c);
        draw_rectangle(0.0, t, t, h - 2.0 * t, c);
        draw_rectangle(w - t, t, t, h - 2.0 * t, c);
    }
}

/// Our health and a one-line status at the bottom centre.
pub fn draw_local_status(view: &GameView, w: f32, h: f32) {
    let Some(me) = view.players.iter().find(|p| p.local) else {
        return;
    };
    let (bw, bh) = (260.0, 16.0);
    let (x, y) = (w / 2.0 - bw / 2.0, h - 46.0);
    text::panel(x - 8.0, y - 26.0, bw + 16.0, bh + 36.0);
    let health = if me.alive { me.health.min(MAX_HEALTH) } else { 0 };
    let frac = f32::from(health) / f32::from(MAX_HEALTH);
    draw_rectangle(x, y, bw, bh, Color::new(0.0, 0.0, 0.0, 0.6));
    let fill = if frac <= 0.25 {
        palette::HEALTH_LOW
    } else {
        palette::HEALTH
    };
    draw_rectangle(x, y, bw * frac, bh, fill);
    text::draw(&me.name, x, y - 8.0, 18.0, palette::LOCAL);
    text::draw_right(&format!("{health} HP"), x + bw, y - 8.0, 18.0, palette::TEXT);
}

/// Kill feed in the top-right corner, newest at the bottom.
pub fn draw_kill_feed(feed: &[FeedLine], right: f32, top: f32) {
    let lines: Vec<&FeedLine> = feed.iter().filter(|l| l.age_s < FEED_S).collect();
    for (i, l) in lines.iter().rev().take(6).rev().enumerate() {
        let a = line_alpha(l.age_s, FEED_S);
        let size = 18.0;
        let w = text::width(&l.text, size) + 16.0;
        let y = top + i as f32 * 26.0;
        draw_rectangle(right - w, y, w, 22.0, fade(palette::PANEL, a));
        text::draw(&l.text, right - w + 8.0, y + 16.0, size, fade(palette::TEXT, a));
    }
}

/// Chat in the bottom-left corner, and the entry line while typing.
pub fn draw_chat(chat: &[FeedLine], entry: Option<&str>, left: f32, bottom: f32) {
    let typing = entry.is_some();
    let lines: Vec<&FeedLine> = chat.iter().filter(|l| typing || l.age_s < CHAT_S).collect();
    let shown: Vec<&&FeedLine> = lines.iter().rev().take(CHAT_LINES).collect();
    let line_h = 20.0;
    let base = if typing { bottom - 30.0 } else { bottom };
    if typing {
        text::panel(
            left - 6.0,
            base - line_h * CHAT_LINES as f32 - 8.0,
            460.0,
            line_h * CHAT_LINES as f32 + 40.0,
        );
    }
    for (i, l) in shown.iter().enumerate() {
        let a = if typing { 1.0 } else { line_alpha(l.age_s, CHAT_S) };
        text::draw(
            &l.text,
            left,
            base - i as f32 * line_h - 6.0,
            17.0,
            fade(palette::TEXT, a),
        );
    }
    if let Some(e) = entry {
        draw_rectangle(
            left - 2.0,
            bottom - 24.0,
            448.0,
            22.0,
            Color::new(0.0, 0.0, 0.0, 0.6),
        );
        let caret = if (macroquad::time::get_time() * 2.0) as i64 % 2 == 0 {
            "_"
        } else {
            ""
        };
        text::draw(
            &format!("say: {e}{caret}"),
            left + 4.0,
            bottom - 8.0,
            17.0,
            palette::LOCAL,
        );
    }
}

/// The scoreboard (held Tab), centred.
pub fn draw_scoreboard(
    rows: &[ScoreRow],
    local: Option<rewind_shared::player::PlayerId>,
    map: &str,
    w: f32,
    h: f32,
) {
    draw_board("SCOREBOARD", map, None, rows, local, w, h);
}

/// The final scoreboard of a match that ended by its rules, with why and what comes next.
pub fn draw_match_over(
    m: &crate::view::MatchOverView,
    local: Option<rewind_shared::player::PlayerId>,
    w: f32,
    h: f32,
) {
    let winner = match m.rows.as_slice() {
        [a, b, ..] if a.kills == b.kills => "a draw".to_string(),
        [a, ..] => format!("{} wins", a.name),
        [] => String::new(),
    };
    let next = match m.next_in_s {
        Some(s) => format!("{} - next match in {:.0} s", m.reason, s.ceil()),
        None => format!("{} - that was the last match", m.reason),
    };
    draw_board("MATCH OVER", &winner, Some(&next), &m.rows, local, w, h);
}

/// A centred table of players with a title, a note at the top right and an optional footer.
fn draw_board(
    title: &str,
    note: &str,
    footer: Option<&str>,
    rows: &[ScoreRow],
    local: Option<rewind_shared::player::PlayerId>,
    w: f32,
    h: f32,
) {
    let pw = 560.0;
    let row_h = 26.0;
    let foot_h = if footer.is_some() { 30.0 } else { 0.0 };
    let ph = 84.0 + row_h * rows.len() as f32 + foot_h;
    let (x, y) = (w / 2.0 - pw / 2.0, (h / 2.0 - ph / 2.0).max(20.0));
    text::panel(x, y, pw, ph);
    text::draw(title, x + 16.0, y + 30.0, 26.0, palette::TEXT);
    text::draw_right(note, x + pw - 16.0, y + 30.0, 18.0, palette::TEXT_DIM);
    if let Some(f) = footer {
        text::draw(f, x + 16.0, y + ph - 14.0, 17.0, palette::TEXT_DIM);
    }
    let (ck, cd, cp) = (x + 330.0, x + 400.0, x + pw - 16.0);
    let hy = y + 58.0;
    text::draw("player", x + 16.0, hy, 16.0, palette::TEXT_DIM);
    text::draw_right("kills", ck + 20.0, hy, 16.0, palette::TEXT_DIM);
    text::draw_right("deaths", cd + 30.0, hy, 16.0, palette::TEXT_DIM);
    text::draw_right("ping", cp, hy, 16.0, palette::TEXT_DIM);
    draw_line(
        x + 12.0,
        hy + 6.0,
        x + pw - 12.0,
        hy + 6.0,
        1.0,
        palette::PANEL_EDGE,
    );
    for (i, r) in rows.iter().enumerate() {
        let ry = hy + 8.0 + row_h * i as f32;
        let me = Some(r.id) == local;
        if me {
            draw_rectangle(x + 8.0, ry, pw - 16.0, row_h - 2.0, fade(palette::LOCAL, 0.18));
        }
        let c = palette::player_colour(r.id.0, me);
        draw_rectangle(x + 16.0, ry + 8.0, 8.0, 8.0, c);
        let ty = ry + 18.0;
        text::draw(
            &r.name,
            x + 32.0,
            ty,
            18.0,
            if me { palette::LOCAL } else { palette::TEXT },
        );
        text::draw_right(&r.kills.to_string(), ck + 20.0, ty, 18.0, palette::TEXT);
        text::draw_right(&r.deaths.to_string(), cd + 30.0, ty, 18.0, palette::TEXT);
        let ping = r.ping_ms.map_or("-".to_string(), |p| format!("{p:.0} ms"));
        text::draw_right(&ping, cp, ty, 18.0, palette::TEXT_DIM);
    }
}

/// The sound settings after a change (M, `[` `]`, `,` `.`), in a panel above the bottom edge.
pub fn draw_sound_line(line: &str, w: f32, h: f32) {
    let pw = text::width(line, 20.0) + 32.0;
    text::panel(w / 2.0 - pw / 2.0, h - 96.0, pw, 34.0);
    text::draw_centered(line, w / 2.0, h - 73.0, 20.0, palette::TEXT);
}

/// The respawn countdown, centred and large.
pub fn draw_respawn(seconds: f32, w: f32, h: f32) {
    draw_rectangle(0.0, 0.0, w, h, Color::new(0.0, 0.0, 0.0, 0.35));
    text::draw_centered("YOU DIED", w / 2.0, h / 2.0 - 30.0, 48.0, palette::HIT_DENIED);
    text::draw_centered(
        &format!("respawning in {:.1} s", seconds.max(0.0)),
        w / 2.0,
        h / 2.0 + 10.0,
        24.0,
        palette::TEXT,
    );
}

/// A crosshair at the mouse; it flashes into an X for a moment when one of our shots just hit.
pub fn draw_crosshair(at: Vec2, hit: Option<Color>) {
    let c = Color::new(1.0, 1.0, 1.0, 0.9);
    draw_circle_lines(at.x, at.y, 9.0, 1.5, c);
    for (dx, dy) in [(1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0)] {
        draw_line(
            at.x + dx * 4.0,
            at.y + dy * 4.0,
            at.x + dx * 14.0,
            at.y + dy * 14.0,
            1.5,
            c,
        );
    }
    if let Some(hc) = hit {
        for (dx, dy) in [(1.0, 1.0), (1.0, -1.0), (-1.0, 1.0), (-1.0, -1.0)] {
            draw_line(
                at.x + dx * 7.0,
                at.y + dy * 7.0,
                at.x + dx * 15.0,
                at.y + dy * 15.0,
                2.5,
                hc,
            );
        }
    }
}

/// The conditioner overlay: always visible while the link is not perfect or just after a key
/// press; says so when this session cannot condition its link.
pub fn draw_link(cfg: Option<&LinkConfig>, show_keys: bool, x: f32, y: f32) {
    let Some(cfg) = cfg else {
        if show_keys {
            text::panel(x, y, 360.0, 28.0);
            text::draw(
                "link conditioner not available here",
                x + 10.0,
                y + 19.0,
                16.0,
                palette::TEXT_DIM,
            );
        }
        return;
    };
    if cfg.is_perfect() && !show_keys {
        return;
    }
    let line = link::summary(cfg);
    let w = text::width(&line, 18.0).max(text::width(link::KEYS_HELP, 16.0)) + 24.0;
    text::panel(x, y, w, 50.0);
    draw_rectangle(x, y, 4.0, 50.0, palette::NETSIM);
    text::draw(&line, x + 12.0, y + 20.0, 18.0, palette::NETSIM);
    text::draw(link::KEYS_HELP, x + 12.0, y + 40.0, 16.0, palette::TEXT_DIM);
}

/// One line of key help along the bottom edge.
pub fn draw_help(w: f32, h: f32) {
    let s =
        "WASD move  mouse aim  click fire  Enter chat  Tab scores  F3 net  F4 lag-comp debug  F5-F11 network";
    text::draw_centered(s, w / 2.0, h - 8.0, 15.0, fade(palette::TEXT_DIM, 0.8));
}

#[cfg(test)]
mod tests {
    use super::line_alpha;

    #[test]
    fn lines_fade_in_their_last_second() {
        assert_eq!(line_alpha(0.0, 6.0), 1.0);
        assert!((line_alpha(5.5, 6.0) - 0.5).abs() < 1e-6);
        assert_eq!(line_alpha(7.0, 6.0), 0.0);
    }
}
