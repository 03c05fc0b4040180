//! What a user sees when an instance is rendered.

use rtms_dicom::fixtures;

use fixtures::*;
use image::{DynamicImage, GenericImageView};
use rtms_dicom::{index_path, render_png, Preset, Window};

fn decode(png: &[u8]) -> DynamicImage {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    image::load_from_memory(png).expect("PNG decodes")
}

fn gray(png: &[u8]) -> image::GrayImage {
    let img = decode(png);
    assert!(
        matches!(img, DynamicImage::ImageLuma8(_)),
        "expected 8-bit grayscale, got {:?}",
        img.color()
    );
    img.to_luma8()
}

fn variance(img: &image::GrayImage) -> f64 {
    let n = img.pixels().len() as f64;
    let mean = img.pixels().map(|p| f64::from(p[0])).sum::<f64>() / n;
    img.pixels()
        .map(|p| (f64::from(p[0]) - mean).powi(2))
        .sum::<f64>()
        / n
}

/// Grey level of pixel (x, y).
fn at(img: &image::GrayImage, x: u32, y: u32) -> u8 {
    img.get_pixel(x, y)[0]
}

#[test]
fn rendered_png_has_size_and_visible_content() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "ct.dcm", &ct_object(&Spec::ct(1)));

    let img = gray(&render_png(&path, None, 0, None, None).unwrap());
    assert_eq!(img.dimensions(), (u32::from(WIDTH), u32::from(HEIGHT)));
    assert!(variance(&img) > 0.0);
    assert!(img.pixels().any(|p| p[0] < 30), "no dark pixels");
    assert!(img.pixels().any(|p| p[0] > 225), "no bright pixels");
    // File window 40/400: air black, bone core white, soft tissue mid-grey.
    let cy = u32::from(HEIGHT) / 2;
    assert_eq!(at(&img, 60, 2), 0);
    assert_eq!(at(&img, 16, cy), 255);
    let soft = at(&img, 16 + 9, cy);
    assert!((100..180).contains(&soft), "soft tissue grey {soft}");
}

#[test]
fn presets_give_different_images_and_apply_rescale() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "ct.dcm", &ct_object(&Spec::ct(1)));

    let lung = gray(&render_png(&path, None, 0, Preset::Lung.to_window(), None).unwrap());
    let bone = gray(&render_png(&path, None, 0, Preset::Bone.to_window(), None).unwrap());
    assert_ne!(lung.as_raw(), bone.as_raw());
    // Air is -1000 HU only after the intercept: in the lung window
    // (-600/1500) it is dark grey, in the bone window black.
    let air_lung = at(&lung, 60, 2);
    assert!(
        (40..80).contains(&air_lung),
        "air in lung window {air_lung}"
    );
    assert_eq!(at(&bone, 60, 2), 0);
    // Soft tissue is near white in the lung window, grey in the bone window.
    let cy = u32::from(HEIGHT) / 2;
    let soft_lung = at(&lung, 16 + 9, cy);
    assert!(soft_lung > 225, "soft in lung window {soft_lung}");
    let soft_bone = at(&bone, 16 + 9, cy);
    assert!(
        (50..110).contains(&soft_bone),
        "soft in bone window {soft_bone}"
    );

    // An explicit window works the same as a preset.
    let custom =
        gray(&render_png(&path, None, 0, Some(Window::new(-600.0, 1500.0)), None).unwrap());
    assert_eq!(custom.as_raw(), lung.as_raw());
}

#[test]
fn default_preset_without_file_window_uses_min_max() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::ct(1);
    spec.window = None;
    let path = write_file(dir.path(), "ct.dcm", &ct_object(&spec));
    let index = index_path(&path).unwrap();
    assert_eq!(index.studies[0].series[0].instances[0].window, None);

    let img = gray(&render_png(&path, None, 0, None, None).unwrap());
    let cy = u32::from(HEIGHT) / 2;
    assert_eq!(at(&img, 60, 2), 0, "minimum is black");
    assert_eq!(at(&img, 16, cy), 255, "maximum is white");
    let soft = at(&img, 16 + 9, cy);
    assert!((120..150).contains(&soft), "soft tissue {soft}");
}

#[test]
fn monochrome1_is_inverted() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::ct(1);
    spec.photometric = "MONOCHROME1";
    let m1 = write_file(dir.path(), "m1.dcm", &ct_object(&spec));
    let m2 = write_file(dir.path(), "m2.dcm", &ct_object(&Spec::ct(1)));
    let w = Preset::Mediastinum.to_window();
    let a = gray(&render_png(&m1, None, 0, w, None).unwrap());
    let b = gray(&render_png(&m2, None, 0, w, None).unwrap());
    for (pa, pb) in a.pixels().zip(b.pixels()) {
        assert_eq!(pa[0], 255 - pb[0]);
    }
}

#[test]
fn max_side_downscales_keeping_aspect_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "ct.dcm", &ct_object(&Spec::ct(1)));

    let thumb = decode(&render_png(&path, None, 0, None, Some(32)).unwrap());
    assert_eq!(thumb.dimensions(), (32, 24));
    assert!(variance(&thumb.to_luma8()) > 0.0);

    let tall = decode(&render_png(&path, None, 0, None, Some(16)).unwrap());
    assert_eq!(tall.dimensions(), (16, 12));

    // Never enlarged.
    let same = decode(&render_png(&path, None, 0, None, Some(1000)).unwrap());
    assert_eq!(same.dimensions(), (u32::from(WIDTH), u32::from(HEIGHT)));
}

#[test]
fn zip_entry_renders_like_the_single_file() {
    let dir = tempfile::tempdir().unwrap();
    let obj = ct_object(&Spec::ct(1));
    let single = write_file(dir.path(), "ct.dcm", &obj);
    let zip = dir.path().join("study.zip");
    write_zip(
        &zip,
        &[("notes.txt", b"x".to_vec()), ("CT/IM1", to_bytes(&obj))],
    );

    let from_zip = render_png(&zip, Some("CT/IM1"), 0, None, None).unwrap();
    let from_file = render_png(&single, None, 0, None, None).unwrap();
    assert_eq!(gray(&from_zip).as_raw(), gray(&from_file).as_raw());

    let err = render_png(&zip, Some("CT/IM9"), 0, None, None).unwrap_err();
    assert_eq!(err.code(), "entry_not_found");
    let err = render_png(&zip, Some("notes.txt"), 0, None, None).unwrap_err();
    assert_eq!(err.code(), "not_dicom");
    // A ZIP without an entry name is not a DICOM file.
    let err = render_png(&zip, None, 0, None, None).unwrap_err();
    assert_eq!(err.code(), "not_dicom");
}

#[test]
fn errors_carry_machine_codes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "ct.dcm", &ct_object(&Spec::ct(1)));
    let err = render_png(&path, None, 1, None, None).unwrap_err();
    assert_eq!(err.code(), "frame_out_of_range");

    let text = dir.path().join("photo.dcm");
    std::fs::write(&text, vec![b'x'; 4096]).unwrap();
    let err = render_png(&text, None, 0, None, None).unwrap_err();
    assert_eq!(err.code(), "not_dicom");

    let sr = write_file(dir.path(), "sr.dcm", &report_object(&Spec::ct(1)));
    let err = render_png(&sr, None, 0, None, None).unwrap_err();
    assert_eq!(err.code(), "no_pixel_data");
}

#[test]
fn multi_frame_instance_renders_each_frame() {
    let dir = tempfile::tempdir().unwrap();
    let mut spec = Spec::ct(1);
    spec.frames = 3;
    let obj = ct_object(&spec);
    let zip = dir.path().join("mf.zip");
    write_zip(&zip, &[("MF", to_bytes(&obj))]);
    let index = index_path(&zip).unwrap();
    assert_eq!(index.studies[0].series[0].instances[0].frames, 3);

    let frames: Vec<_> = (0..3)
        .map(|f| gray(&render_png(&zip, Some("MF"), f, None, None).unwrap()))
        .collect();
    for f in &frames {
        assert_eq!(f.dimensions(), (u32::from(WIDTH), u32::from(HEIGHT)));
        assert!(variance(f) > 0.0);
    }
    assert_ne!(frames[0].as_raw(), frames[1].as_raw());
    assert_ne!(frames[1].as_raw(), frames[2].as_raw());
    assert_ne!(frames[0].as_raw(), frames[2].as_raw());
    // The bone core moves right by 14 pixels per frame.
    let cy = u32::from(HEIGHT) / 2;
    for (f, img) in frames.iter().enumerate() {
        assert_eq!(at(img, 16 + 14 * f as u32, cy), 255, "frame {f}");
    }

    let err = render_png(&zip, Some("MF"), 3, None, None).unwrap_err();
    assert_eq!(err.code(), "frame_out_of_range");
}

#[test]
fn colour_image_renders_as_rgb() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "rgb.dcm", &rgb_object(&Spec::ct(1)));
    let img = decode(&render_png(&path, None, 0, None, None).unwrap());
    let DynamicImage::ImageRgb8(rgb) = img else {
        panic!("expected RGB, got {:?}", img.color());
    };
    assert_eq!(rgb.get_pixel(2, 2).0, [220, 20, 20]);
    assert_eq!(rgb.get_pixel(60, 2).0, [20, 20, 220]);
}
