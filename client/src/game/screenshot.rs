//! Saving what the window shows as PNG (`--screenshot`), and a check that a PNG is not blank
//! (used by the window tests).

use macroquad::prelude::ImageFormat;
use macroquad::texture::{Image, get_screen_data};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Largest screenshot file the checker reads.
pub const MAX_PNG_BYTES: u64 = 64 * 1024 * 1024;

/// Why a screenshot could not be saved or checked.
#[derive(Debug, thiserror::Error)]
pub enum ScreenshotError {
    /// The file could not be created, read or written.
    #[error("screenshot {path}: {source}")]
    Io {
        /// Which file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The PNG encoder failed.
    #[error("screenshot {0}: the PNG encoder failed")]
    Encode(PathBuf),
    /// The file is not a PNG we can read, or too large.
    #[error("screenshot {path}: not a readable PNG: {reason}")]
    Decode {
        /// Which file.
        path: PathBuf,
        /// Decoder message.
        reason: String,
    },
}

/// Grabs the current frame (call after drawing, before `next_frame`) and writes it to `path`.
///
/// macroquad's `get_screen_data` returns rows bottom-up (OpenGL order) and `Image::export_png`
/// flips them back, so the file is upright; `window_screenshot` checks this by looking for the
/// HUD title panel in the top rows.
pub fn save(path: &Path) -> Result<(), ScreenshotError> {
    let io = |source| ScreenshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    // Create the file first so a bad path is a clean error, not the encoder's panic.
    std::fs::File::create(path).map_err(io)?;
    let mut image = get_screen_data();
    // Translucent drawing leaves the framebuffer's alpha below 1 in places; what the player saw is
    // the opaque colour, so store it opaque (otherwise viewers blend the PNG with white).
    for px in image.bytes.chunks_exact_mut(4) {
        px[3] = 255;
    }
    let target = path.to_string_lossy().into_owned();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| image.export_png(&target)))
        .map_err(|_| ScreenshotError::Encode(path.to_path_buf()))
}

/// A decoded screenshot: RGBA pixels, top row first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pixels {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height * 4` bytes, RGBA, row by row from the top.
    pub rgba: Vec<u8>,
}

impl Pixels {
    /// The RGBA value at (x, y), or `None` outside the image.
    pub fn pixel(&self, x: usize, y: usize) -> Option<[u8; 4]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let i = (y * self.width + x) * 4;
        Some([self.rgba[i], self.rgba[i + 1], self.rgba[i + 2], self.rgba[i + 3]])
    }
}

/// Reads a PNG (size-limited).
pub fn load(path: &Path) -> Result<Pixels, ScreenshotError> {
    let io = |source| ScreenshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_PNG_BYTES {
        return Err(ScreenshotError::Decode {
            path: path.to_path_buf(),
            reason: format!("{len} bytes is over the {MAX_PNG_BYTES}-byte limit"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let img = Image::from_file_with_format(&bytes, Some(ImageFormat::Png)).map_err(|e| {
        ScreenshotError::Decode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    })?;
    Ok(Pixels {
        width: usize::from(img.width),
        height: usize::from(img.height),
        rgba: img.bytes,
    })
}

/// Number of distinct RGB colours in an image: a blank or failed frame has one or two, a drawn
/// game frame has hundreds (anti-aliased circles, text, translucent panels).
pub fn distinct_colours(image: &Pixels) -> usize {
    image
        .rgba
        .chunks_exact(4)
        .map(|p| u32::from_be_bytes([0, p[0], p[1], p[2]]))
        .collect::<BTreeSet<u32>>()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_colours_and_refuses_non_png() {
        let mut img = Pixels {
            width: 4,
            height: 4,
            rgba: vec![0; 64],
        };
        assert_eq!(distinct_colours(&img), 1);
        img.rgba[0] = 255;
        img.rgba[4] = 7;
        assert_eq!(distinct_colours(&img), 3);
        assert_eq!(img.pixel(1, 0), Some([7, 0, 0, 0]));
        assert_eq!(img.pixel(4, 0), None);
        let dir = std::env::temp_dir().join(format!("rewind-shot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bad = dir.join("bad.png");
        std::fs::write(&bad, b"not a png").unwrap();
        assert!(matches!(load(&bad), Err(ScreenshotError::Decode { .. })));
        assert!(matches!(
            load(&dir.join("missing.png")),
            Err(ScreenshotError::Io { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn gl_order_buffers_are_saved_upright() {
        // get_screen_data gives OpenGL order: the first row in memory is the BOTTOM of the screen.
        let mut gl = Image::gen_image_color(3, 2, macroquad::color::BLACK);
        gl.bytes[..12].copy_from_slice(&[255, 0, 0, 255].repeat(3));
        let dir = std::env::temp_dir().join(format!("rewind-shot-up-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("up.png");
        gl.export_png(&png.to_string_lossy());
        let back = load(&png).unwrap();
        assert_eq!((back.width, back.height), (3, 2));
        assert_eq!(
            back.pixel(0, 1),
            Some([255, 0, 0, 255]),
            "screen bottom row is the file's last row"
        );
        assert_eq!(back.pixel(0, 0), Some([0, 0, 0, 255]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
