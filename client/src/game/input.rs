//! Keyboard and mouse to `ControlInput`: WASD moves, the mouse aims (relative to our player, in
//! world space), the left button fires, Enter opens and sends chat, Esc cancels it. While the chat
//! box is open, keys type text instead of moving.

use crate::view::ControlInput;
use macroquad::camera::Camera2D;
use macroquad::input::{
    KeyCode, MouseButton, get_char_pressed, is_key_down, is_key_pressed, is_mouse_button_down, mouse_position,
};
use rewind_shared::Vec2;

/// Longest chat line accepted from the keyboard (the core may limit further).
pub const MAX_CHAT_CHARS: usize = 120;

/// The chat entry line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatBox {
    /// Typing in progress.
    pub open: bool,
    /// What has been typed.
    pub text: String,
}

impl ChatBox {
    /// Starts typing.
    pub fn open(&mut self) {
        self.open = true;
        self.text.clear();
    }

    /// Adds a typed character; control characters and overlong lines are ignored.
    pub fn push(&mut self, c: char) {
        if self.open && !c.is_control() && self.text.chars().count() < MAX_CHAT_CHARS {
            self.text.push(c);
        }
    }

    /// Deletes the last character.
    pub fn backspace(&mut self) {
        self.text.pop();
    }

    /// Closes the box and returns the line to send, unless it is blank.
    pub fn submit(&mut self) -> Option<String> {
        self.open = false;
        let line = std::mem::take(&mut self.text);
        let line = line.trim();
        if line.is_empty() {
            None
        } else {
            Some(line.to_string())
        }
    }

    /// Closes the box without sending.
    pub fn cancel(&mut self) {
        self.open = false;
        self.text.clear();
    }
}

/// Movement wish from four direction flags (screen up is world -y).
pub fn wish(up: bool, down: bool, left: bool, right: bool) -> Vec2 {
    let axis = |neg: bool, pos: bool| f32::from(i8::from(pos) - i8::from(neg));
    Vec2::new(axis(left, right), axis(up, down))
}

/// Reads this frame's keyboard and mouse. `camera` is the one the world was drawn with and
/// `local_pos` where our player was drawn, so the aim points exactly at the cursor.
pub fn sample(chat: &mut ChatBox, camera: &Camera2D, local_pos: Option<Vec2>, playing: bool) -> ControlInput {
    let mut out = ControlInput::default();
    // Drain typed characters every frame so nothing typed while playing leaks into the next chat.
    let mut typed = Vec::new();
    while let Some(c) = get_char_pressed() {
        typed.push(c);
    }
    let enter = is_key_pressed(KeyCode::Enter) || is_key_pressed(KeyCode::KpEnter);
    if chat.open {
        for c in typed {
            chat.push(c);
        }
        if is_key_pressed(KeyCode::Backspace) {
            chat.backspace();
        }
        if is_key_pressed(KeyCode::Escape) {
            chat.cancel();
        } else if enter {
            out.chat = chat.submit();
        }
        return out;
    }
    if !playing {
        return out;
    }
    if enter {
        chat.open();
        return out;
    }
    out.mv = wish(
        is_key_down(KeyCode::W) || is_key_down(KeyCode::Up),
        is_key_down(KeyCode::S) || is_key_down(KeyCode::Down),
        is_key_down(KeyCode::A) || is_key_down(KeyCode::Left),
        is_key_down(KeyCode::D) || is_key_down(KeyCode::Right),
    );
    if let Some(me) = local_pos {
        let (mx, my) = mouse_position();
        let target = camera.screen_to_world(Vec2::new(mx, my));
        out.aim = (target - me).normalize_or_zero();
    }
    out.fire = is_mouse_button_down(MouseButton::Left);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_typing_submit_and_cancel() {
        let mut chat = ChatBox::default();
        chat.push('x');
        assert!(chat.text.is_empty(), "closed box ignores keys");
        chat.open();
        for c in "gg\r wp".chars() {
            chat.push(c);
        }
        assert_eq!(chat.text, "gg wp");
        chat.backspace();
        assert_eq!(chat.submit(), Some("gg w".to_string()));
        assert!(!chat.open);
        chat.open();
        chat.push(' ');
        assert_eq!(chat.submit(), None, "blank lines are not sent");
        chat.open();
        chat.push('a');
        chat.cancel();
        assert!(!chat.open && chat.text.is_empty());
    }

    #[test]
    fn chat_length_is_capped() {
        let mut chat = ChatBox::default();
        chat.open();
        for _ in 0..500 {
            chat.push('a');
        }
        assert_eq!(chat.text.len(), MAX_CHAT_CHARS);
    }

    #[test]
    fn wish_axes() {
        assert_eq!(wish(true, false, false, false), Vec2::new(0.0, -1.0));
        assert_eq!(wish(false, true, true, false), Vec2::new(-1.0, 1.0));
        assert_eq!(wish(true, true, true, true), Vec2::ZERO);
    }
}
