//! Rendering one frame of an instance to PNG.

use std::fmt;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use dicom_dictionary_std::tags;
use dicom_object::DefaultDicomObject;
use dicom_pixeldata::{
    DecodedPixelData, PhotometricInterpretation, PixelDecoder, PixelRepresentation,
    PlanarConfiguration,
};
use dicom_transfer_syntax_registry::{TransferSyntaxIndex, TransferSyntaxRegistry};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};
use serde::{Deserialize, Serialize};

use crate::source::{self, error_chain};
use crate::DicomError;

/// A VOI window: values below `center - width/2` are black, values above
/// `center + width/2` are white (after the rescale slope/intercept, so in
/// Hounsfield units for CT).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// Window centre (level).
    pub center: f64,
    /// Window width; values below 1 are treated as 1.
    pub width: f64,
}

impl Window {
    /// A window with the given centre and width.
    pub fn new(center: f64, width: f64) -> Self {
        Window { center, width }
    }
}

impl From<(f64, f64)> for Window {
    fn from((center, width): (f64, f64)) -> Self {
        Window { center, width }
    }
}

/// Standard radiology windows.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// The window stored in the file, or the full range of the pixel data.
    #[default]
    Default,
    /// Lung window: centre -600, width 1500.
    Lung,
    /// Mediastinum (soft tissue) window: centre 50, width 350.
    Mediastinum,
    /// Bone window: centre 400, width 1800.
    Bone,
    /// Brain window: centre 40, width 80.
    Brain,
}

impl Preset {
    /// All presets, in the order a viewer would offer them.
    pub const ALL: [Preset; 5] = [
        Preset::Default,
        Preset::Lung,
        Preset::Mediastinum,
        Preset::Bone,
        Preset::Brain,
    ];

    /// The preset's (centre, width) in Hounsfield units; `None` for
    /// [`Preset::Default`], whose window depends on the image.
    pub fn window(&self) -> Option<(f64, f64)> {
        match self {
            Preset::Default => None,
            Preset::Lung => Some((-600.0, 1500.0)),
            Preset::Mediastinum => Some((50.0, 350.0)),
            Preset::Bone => Some((400.0, 1800.0)),
            Preset::Brain => Some((40.0, 80.0)),
        }
    }

    /// The window to pass to [`render_png`]: `None` for [`Preset::Default`].
    pub fn to_window(&self) -> Option<Window> {
        self.window().map(Window::from)
    }

    /// Stable lower-case name: `default`, `lung`, `mediastinum`, `bone`,
    /// `brain`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Preset::Default => "default",
            Preset::Lung => "lung",
            Preset::Mediastinum => "mediastinum",
            Preset::Bone => "bone",
            Preset::Brain => "brain",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name given to [`Preset::from_str`] is not a known preset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown window preset: {0}")]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownPreset(s.to_string()))
    }
}

/// Renders frame `frame` (zero-based) of an instance to a PNG.
///
/// `entry` names the ZIP entry when `path` is a ZIP archive, and is `None`
/// for a single DICOM file. Monochrome images become 8-bit grayscale PNGs:
/// the rescale slope/intercept is applied first, then `window`
/// (`None` = [`Preset::Default`]: the file's own window, or the minimum and
/// maximum of the frame), and MONOCHROME1 is inverted. Colour images (RGB,
/// YBR_FULL) become RGB PNGs and ignore the window. With `max_side`, the
/// image is downscaled (never enlarged) so that its longer side is at most
/// that many pixels, keeping the aspect ratio.
pub fn render_png(
    path: &Path,
    entry: Option<&str>,
    frame: u32,
    window: Option<Window>,
    max_side: Option<u32>,
) -> Result<Vec<u8>, DicomError> {
    let obj = cached_object(path, entry)?;
    png_of(&obj, frame, window, max_side)
}

/// [`render_png`] on an upload held in memory (nothing is cached).
pub fn render_png_bytes(
    bytes: &[u8],
    entry: Option<&str>,
    frame: u32,
    window: Option<Window>,
    max_side: Option<u32>,
) -> Result<Vec<u8>, DicomError> {
    let obj = source::open_full_bytes(bytes, entry)?;
    png_of(&obj, frame, window, max_side)
}

fn png_of(
    obj: &DefaultDicomObject,
    frame: u32,
    window: Option<Window>,
    max_side: Option<u32>,
) -> Result<Vec<u8>, DicomError> {
    let image = render_frame(obj, frame, window)?;
    let image = downscale(image, max_side);
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .map_err(|e| DicomError::Encode(e.to_string()))?;
    Ok(png)
}

/// Bytes of parsed instances kept between frame requests (256 MiB), so that
/// paging through a multi-frame instance or a series parses each file once.
pub const MAX_CACHE_BYTES: u64 = 256 << 20;

/// Largest decoded frame rendered (128 MiB of samples, e.g. 8192 × 8192 at
/// 16 bits), checked from the header before anything is decoded.
pub const MAX_FRAME_BYTES: u64 = 128 << 20;

/// Which file (and entry) a parsed instance came from; the length and
/// modification time make a replaced file a different key.
#[derive(Clone, PartialEq, Eq)]
struct CacheKey {
    path: PathBuf,
    entry: Option<String>,
    len: u64,
    modified: Option<SystemTime>,
}

struct Cached {
    key: CacheKey,
    object: Arc<DefaultDicomObject>,
    cost: u64,
}

/// Parsed instances, least recently used first, within [`MAX_CACHE_BYTES`].
#[derive(Default)]
struct ObjectCache {
    items: Vec<Cached>,
    hits: u64,
    misses: u64,
}

static CACHE: Mutex<ObjectCache> = Mutex::new(ObjectCache {
    items: Vec::new(),
    hits: 0,
    misses: 0,
});

/// Counts of the instance cache since the process started: (hits, misses,
/// bytes held). For tests and metrics.
pub fn cache_stats() -> (u64, u64, u64) {
    let cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let held = cache.items.iter().map(|c| c.cost).sum();
    (cache.hits, cache.misses, held)
}

fn cached_object(path: &Path, entry: Option<&str>) -> Result<Arc<DefaultDicomObject>, DicomError> {
    let meta = std::fs::metadata(path)?;
    let key = CacheKey {
        path: path.to_path_buf(),
        entry: entry.map(str::to_string),
        len: meta.len(),
        modified: meta.modified().ok(),
    };
    {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = cache.items.iter().position(|c| c.key == key) {
            let item = cache.items.remove(i);
            let object = item.object.clone();
            cache.items.push(item);
            cache.hits += 1;
            return Ok(object);
        }
        cache.misses += 1;
    }
    // Parsed outside the lock: other frames keep being served meanwhile.
    let (object, cost) = source::open_full(path, entry)?;
    let object = Arc::new(object);
    if cost <= MAX_CACHE_BYTES {
        let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
        cache.items.retain(|c| c.key != key);
        let mut held: u64 = cache.items.iter().map(|c| c.cost).sum();
        while held + cost > MAX_CACHE_BYTES && !cache.items.is_empty() {
            held -= cache.items.remove(0).cost;
        }
        cache.items.push(Cached {
            key,
            object: object.clone(),
            cost,
        });
    }
    Ok(object)
}

fn header_int(obj: &DefaultDicomObject, tag: dicom_core::Tag) -> Option<u64> {
    obj.get(tag)?.to_int::<u64>().ok()
}

/// Bytes one decoded frame takes, from the header alone.
fn frame_bytes(obj: &DefaultDicomObject) -> u64 {
    let rows = header_int(obj, tags::ROWS).unwrap_or(0);
    let columns = header_int(obj, tags::COLUMNS).unwrap_or(0);
    let samples = header_int(obj, tags::SAMPLES_PER_PIXEL).unwrap_or(1).max(1);
    let bits = header_int(obj, tags::BITS_ALLOCATED).unwrap_or(8).max(8);
    rows.saturating_mul(columns)
        .saturating_mul(samples)
        .saturating_mul(bits.div_ceil(8))
}

fn number_of_frames(obj: &DefaultDicomObject) -> u32 {
    obj.get(tags::NUMBER_OF_FRAMES)
        .and_then(|e| e.to_str().ok())
        .and_then(|s| {
            s.trim_matches(|c: char| c.is_whitespace() || c == '\0')
                .parse::<i64>()
                .ok()
        })
        .filter(|n| *n > 0)
        .map_or(1, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn render_frame(
    obj: &DefaultDicomObject,
    frame: u32,
    window: Option<Window>,
) -> Result<DynamicImage, DicomError> {
    if obj.get(tags::PIXEL_DATA).is_none() {
        return Err(DicomError::NoPixelData);
    }
    let frames = number_of_frames(obj);
    if frame >= frames {
        return Err(DicomError::FrameOutOfRange { frame, frames });
    }
    let bytes = frame_bytes(obj);
    if bytes == 0 {
        // No rows or no columns: dicom-pixeldata would divide the data into
        // frames of nothing (found by the dicom_index fuzz target: gigabytes).
        return Err(DicomError::NoPixelData);
    }
    if bytes > MAX_FRAME_BYTES {
        return Err(DicomError::FrameTooLarge {
            bytes,
            limit: MAX_FRAME_BYTES,
        });
    }
    let ts_uid = obj.meta().transfer_syntax();
    match TransferSyntaxRegistry.get(ts_uid) {
        Some(ts) if ts.can_decode_all() => {}
        Some(ts) => {
            return Err(DicomError::UnsupportedTransferSyntax(format!(
                "{} ({})",
                ts.uid(),
                ts.name()
            )))
        }
        None => return Err(DicomError::UnsupportedTransferSyntax(ts_uid.to_string())),
    }
    let decoded = obj
        .decode_pixel_data_frame(frame)
        .map_err(|e| DicomError::Decode(error_chain(&e)))?;
    let width = decoded.columns();
    let height = decoded.rows();
    if width == 0 || height == 0 {
        return Err(DicomError::NoPixelData);
    }
    match decoded.photometric_interpretation() {
        PhotometricInterpretation::Monochrome1 | PhotometricInterpretation::Monochrome2 => {
            let invert = matches!(
                decoded.photometric_interpretation(),
                PhotometricInterpretation::Monochrome1
            );
            let values = mono_values(&decoded)?;
            let window = window.unwrap_or_else(|| default_window(&decoded, &values));
            let pixels = values
                .iter()
                .map(|&v| {
                    let g = apply_window(v, window);
                    if invert {
                        255 - g
                    } else {
                        g
                    }
                })
                .collect();
            GrayImage::from_raw(width, height, pixels)
                .map(DynamicImage::ImageLuma8)
                .ok_or_else(|| DicomError::Decode("pixel buffer size mismatch".into()))
        }
        pi @ (PhotometricInterpretation::Rgb | PhotometricInterpretation::YbrFull) => {
            let ybr = matches!(pi, PhotometricInterpretation::YbrFull);
            let pixels = rgb_values(&decoded, ybr)?;
            RgbImage::from_raw(width, height, pixels)
                .map(DynamicImage::ImageRgb8)
                .ok_or_else(|| DicomError::Decode("pixel buffer size mismatch".into()))
        }
        other => Err(DicomError::UnsupportedImage(format!(
            "photometric interpretation {}",
            other.as_str()
        ))),
    }
}

/// Raw stored samples of the (single) decoded frame as integers, honouring
/// bits allocated/stored, high bit and pixel representation.
fn stored_samples(decoded: &DecodedPixelData<'_>, count: usize) -> Result<Vec<i64>, DicomError> {
    let data = decoded
        .frame_data(0)
        .map_err(|e| DicomError::Decode(error_chain(&e)))?;
    let allocated = decoded.bits_allocated();
    let stored = decoded.bits_stored().clamp(1, allocated.max(1));
    let high_bit = decoded.high_bit();
    let shift = u32::from(high_bit)
        .saturating_add(1)
        .saturating_sub(u32::from(stored));
    let signed = decoded.pixel_representation() == PixelRepresentation::Signed;
    let bytes_per_sample = match allocated {
        8 => 1,
        16 => 2,
        32 => 4,
        other => {
            return Err(DicomError::UnsupportedImage(format!(
                "{other} bits allocated"
            )))
        }
    };
    if u32::from(high_bit) >= u32::from(allocated) {
        // A shift past the sample (found by the dicom_index fuzz target).
        return Err(DicomError::UnsupportedImage(format!(
            "high bit {high_bit} of {allocated} bits allocated"
        )));
    }
    let data = data
        .get(..count * bytes_per_sample)
        .ok_or_else(|| DicomError::Decode("pixel data shorter than the image".into()))?;
    let mask: u64 = (1u64 << stored) - 1;
    let convert = |raw: u32| -> i64 {
        let v = (u64::from(raw) >> shift) & mask;
        if signed && v & (1u64 << (stored - 1)) != 0 {
            v as i64 - (1i64 << stored)
        } else {
            v as i64
        }
    };
    let samples = match bytes_per_sample {
        1 => data.iter().map(|&b| convert(u32::from(b))).collect(),
        2 => data
            .chunks_exact(2)
            .map(|c| convert(u32::from(u16::from_ne_bytes([c[0], c[1]]))))
            .collect(),
        _ => data
            .chunks_exact(4)
            .map(|c| convert(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
    };
    Ok(samples)
}

/// Monochrome values after the modality rescale (Hounsfield units for CT).
fn mono_values(decoded: &DecodedPixelData<'_>) -> Result<Vec<f64>, DicomError> {
    if decoded.samples_per_pixel() != 1 {
        return Err(DicomError::UnsupportedImage(format!(
            "{} samples per pixel in a monochrome image",
            decoded.samples_per_pixel()
        )));
    }
    let count = decoded.rows() as usize * decoded.columns() as usize;
    let (slope, intercept) = decoded
        .rescale()
        .ok()
        .and_then(|r| r.first().copied())
        .map_or((1.0, 0.0), |r| (r.slope, r.intercept));
    let slope = if slope == 0.0 || !slope.is_finite() {
        1.0
    } else {
        slope
    };
    let intercept = if intercept.is_finite() {
        intercept
    } else {
        0.0
    };
    Ok(stored_samples(decoded, count)?
        .into_iter()
        .map(|v| v as f64 * slope + intercept)
        .collect())
}

/// The file's own window, or one spanning the minimum..maximum of `values`.
fn default_window(decoded: &DecodedPixelData<'_>, values: &[f64]) -> Window {
    if let Ok(Some(levels)) = decoded.window() {
        if let Some(level) = levels.first() {
            if level.width >= 1.0 && level.center.is_finite() && level.width.is_finite() {
                return Window::new(level.center, level.width);
            }
        }
    }
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if !min.is_finite() || !max.is_finite() {
        return Window::new(0.5, 1.0);
    }
    // Chosen so that `min` maps to black and `max` to white (see apply_window).
    Window::new((min + max + 1.0) / 2.0, max - min + 1.0)
}

/// The linear VOI function of DICOM PS3.3 C.11.2.1.2.1, to 0..=255.
fn apply_window(value: f64, window: Window) -> u8 {
    let width = if window.width.is_finite() {
        window.width.max(1.0)
    } else {
        1.0
    };
    let center = window.center;
    let lower = center - 0.5 - (width - 1.0) / 2.0;
    let upper = center - 0.5 + (width - 1.0) / 2.0;
    if value <= lower {
        0
    } else if value > upper {
        255
    } else {
        (((value - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    }
}

/// Interleaved 8-bit RGB of a colour frame.
fn rgb_values(decoded: &DecodedPixelData<'_>, ybr: bool) -> Result<Vec<u8>, DicomError> {
    if decoded.samples_per_pixel() != 3 {
        return Err(DicomError::UnsupportedImage(format!(
            "{} samples per pixel in a colour image",
            decoded.samples_per_pixel()
        )));
    }
    let pixels = decoded.rows() as usize * decoded.columns() as usize;
    let stored = decoded.bits_stored();
    if stored == 0 || stored > decoded.bits_allocated() {
        // A shift wider than the sample (found by the dicom_index fuzz target).
        return Err(DicomError::UnsupportedImage(format!(
            "{stored} bits stored of {} bits allocated",
            decoded.bits_allocated()
        )));
    }
    // Bring every sample to 0..=255.
    let to_u8 = |v: i64| -> u8 {
        let v = v.max(0);
        if stored > 8 {
            (v >> (stored - 8)).min(255) as u8
        } else {
            (v << (8 - stored)).min(255) as u8
        }
    };
    let samples: Vec<u8> = stored_samples(decoded, pixels * 3)?
        .into_iter()
        .map(to_u8)
        .collect();
    let interleaved: Vec<u8> = match decoded.planar_configuration() {
        PlanarConfiguration::Standard => samples,
        PlanarConfiguration::PixelFirst => (0..pixels)
            .flat_map(|i| [samples[i], samples[pixels + i], samples[2 * pixels + i]])
            .collect(),
    };
    if !ybr {
        return Ok(interleaved);
    }
    Ok(interleaved
        .chunks_exact(3)
        .flat_map(|c| {
            let (y, cb, cr) = (
                f64::from(c[0]),
                f64::from(c[1]) - 128.0,
                f64::from(c[2]) - 128.0,
            );
            let clamp = |v: f64| v.round().clamp(0.0, 255.0) as u8;
            [
                clamp(y + 1.402 * cr),
                clamp(y - 0.344_136 * cb - 0.714_136 * cr),
                clamp(y + 1.772 * cb),
            ]
        })
        .collect())
}

/// Downscales so that the longer side is at most `max_side`, keeping the
/// aspect ratio; never enlarges.
fn downscale(image: DynamicImage, max_side: Option<u32>) -> DynamicImage {
    let Some(max_side) = max_side.filter(|m| *m > 0) else {
        return image;
    };
    let (w, h) = (image.width(), image.height());
    let longer = w.max(h);
    if longer <= max_side {
        return image;
    }
    let scale = f64::from(max_side) / f64::from(longer);
    let nw = ((f64::from(w) * scale).round() as u32).clamp(1, max_side);
    let nh = ((f64::from(h) * scale).round() as u32).clamp(1, max_side);
    image.resize_exact(nw, nh, FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_round_trip_through_strings() {
        for p in Preset::ALL {
            assert_eq!(p.as_str().parse::<Preset>().unwrap(), p);
        }
        assert_eq!("LUNG".parse::<Preset>().unwrap(), Preset::Lung);
        assert!("liver".parse::<Preset>().is_err());
        assert_eq!(Preset::Default.window(), None);
        assert_eq!(Preset::Lung.window(), Some((-600.0, 1500.0)));
    }

    #[test]
    fn linear_window_maps_ends_to_black_and_white() {
        let w = Window::new(40.0, 400.0);
        assert_eq!(apply_window(-1000.0, w), 0);
        assert_eq!(apply_window(1000.0, w), 255);
        let mid = apply_window(40.0, w);
        assert!((126..=129).contains(&mid), "{mid}");
        // Width below 1 is a threshold at the centre.
        let t = Window::new(0.0, 0.0);
        assert_eq!(apply_window(-1.0, t), 0);
        assert_eq!(apply_window(1.0, t), 255);
    }
}
