//! The live session as the window's source: input goes to the session thread, the view comes
//! back, and the live link controls drive the session's socket conditioner.

use super::ViewSource;
use crate::net::SessionHandle;
use crate::view::{ControlInput, GameView};
use rewind_shared::conditioner::LinkConfig;

impl ViewSource for SessionHandle {
    fn frame(&mut self, input: ControlInput) -> GameView {
        self.send(input);
        self.view()
    }

    /// What our socket currently adds to outgoing packets (the controls set both directions).
    fn link(&self) -> Option<LinkConfig> {
        self.conditioner().map(|c| c.outgoing())
    }

    fn set_link(&mut self, cfg: LinkConfig) {
        if let Some(c) = self.conditioner()
            && let Err(e) = c.set_link(cfg)
        {
            tracing::warn!("link settings refused: {e}");
        }
    }
}
