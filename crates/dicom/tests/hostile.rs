//! Hostile uploads: each is refused with its own reason, quickly and
//! without holding what it declares. Before the pre-scan and the ZIP
//! budgets, the nested file aborted this whole test process (stack
//! overflow), the huge length was a 4 GiB allocation, and the archives were
//! read through.

use std::time::Instant;

use rtms_dicom::fixtures::hostile::*;
use rtms_dicom::fixtures::*;
use rtms_dicom::{index_path, render_png, DicomError, MAX_DEPTH};

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn code<T: std::fmt::Debug>(r: Result<T, DicomError>) -> &'static str {
    r.expect_err("a hostile file must be refused").code()
}

#[test]
fn sequences_nested_twenty_thousand_deep_are_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "nested.dcm", &nested_sequences(20_000));
    assert_eq!(code(index_path(&path)), "nesting_too_deep");
    assert_eq!(
        code(render_png(&path, None, 0, None, None)),
        "nesting_too_deep"
    );
    // The same inside a ZIP: the entry is skipped with the reason, the
    // archive's other instances are indexed.
    let zip = dir.path().join("nested.zip");
    write_zip(
        &zip,
        &[
            ("A/nested", nested_sequences(20_000)),
            ("A/good", to_bytes(&ct_object(&Spec::ct(2)))),
        ],
    );
    let index = index_path(&zip).unwrap();
    assert_eq!(index.instance_count(), 1);
    assert_eq!(index.skipped.len(), 1, "{:?}", index.skipped);
    assert!(index.skipped[0].starts_with("A/nested: sequences nested deeper than"));
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "ok.dcm", &nested_sequences(MAX_DEPTH));
    let index = index_path(&path).unwrap();
    assert_eq!(index.instance_count(), 1);
    render_png(&path, None, 0, None, None).unwrap();
    let path = write(dir.path(), "deep.dcm", &nested_sequences(MAX_DEPTH + 1));
    assert_eq!(code(index_path(&path)), "nesting_too_deep");
}

#[test]
fn a_declared_length_of_four_gib_is_refused_before_it_is_allocated() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "huge.dcm", &huge_length(0xFFFF_FFF0));
    let started = Instant::now();
    assert_eq!(code(index_path(&path)), "length_too_large");
    assert_eq!(
        code(render_png(&path, None, 0, None, None)),
        "length_too_large"
    );
    assert!(started.elapsed().as_secs() < 5);
    // In a ZIP (where the size is not known up front) the bytes are read
    // through and found missing.
    let zip = dir.path().join("huge.zip");
    write_zip(&zip, &[("huge", huge_length(0x7FFF_FFF0))]);
    let index = index_path(&zip).unwrap();
    assert_eq!(index.instance_count(), 0);
    assert!(
        index.skipped[0].contains("exceeds") || index.skipped[0].contains("truncated"),
        "{:?}",
        index.skipped
    );
}

#[test]
fn truncated_files_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let whole = to_bytes(&ct_object(&Spec::ct(1)));
    // Cut in the header: neither indexed nor rendered.
    let header_cut = write(
        dir.path(),
        "header.dcm",
        &truncated(dataset_start(&whole) + 50),
    );
    assert_eq!(code(index_path(&header_cut)), "truncated");
    // Cut in the pixel data: the header is indexed, the image is refused.
    let pixels_cut = write(dir.path(), "pixels.dcm", &truncated(whole.len() - 100));
    assert_eq!(index_path(&pixels_cut).unwrap().instance_count(), 1);
    assert_eq!(
        code(render_png(&pixels_cut, None, 0, None, None)),
        "truncated"
    );
}

#[test]
fn a_zip_bomb_is_stopped_by_the_ratio_budget() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("bomb.zip");
    // 64 MiB of zeros deflate to about 64 KiB.
    zip_bomb(&zip, 64 << 20);
    assert!(std::fs::metadata(&zip).unwrap().len() < 1 << 20);
    assert_eq!(code(index_path(&zip)), "zip_ratio");
    assert_eq!(
        code(render_png(&zip, Some("IM0001"), 0, None, None)),
        "zip_ratio"
    );
}

#[test]
fn a_zip_of_a_hundred_thousand_entries_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("many.zip");
    zip_of_many(&zip, 100_000);
    let started = Instant::now();
    assert_eq!(code(index_path(&zip)), "zip_too_many_entries");
    assert!(started.elapsed().as_secs() < 10);
}

/// Found by the dicom_index fuzz target: a US value of odd length made the
/// parser read one byte less than the element's length, lose step with the
/// bytes, and take the next two bytes of text for a 3.6 GB length.
#[test]
fn a_binary_value_of_odd_length_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let odd = [0x28, 0x00, 0x11, 0x00, b'U', b'S', 3, 0, 1, 2, 3];
    let path = write(dir.path(), "odd.dcm", &ct_with(&odd));
    let err = index_path(&path).unwrap_err();
    assert_eq!(err.code(), "invalid_dicom");
    assert!(err.to_string().contains("not a multiple of 2"), "{err}");
}

/// Found by the dicom_index fuzz target: a High Bit past the allocated
/// bits shifted a sample by more than its width (a panic in checked builds,
/// garbage in others).
#[test]
fn a_high_bit_outside_the_sample_is_refused() {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    let dir = tempfile::tempdir().unwrap();
    let mut obj = ct_object(&Spec::ct(1));
    obj.put(DataElement::new(
        dicom_dictionary_std::tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(200u16),
    ));
    let path = write_file(dir.path(), "bits.dcm", &obj);
    assert_eq!(
        code(render_png(&path, None, 0, None, None)),
        "unsupported_image"
    );
    // The largest High Bit overflowed the addition before the shift.
    obj.put(DataElement::new(
        dicom_dictionary_std::tags::HIGH_BIT,
        VR::US,
        PrimitiveValue::from(u16::MAX),
    ));
    let path = write_file(dir.path(), "bits_max.dcm", &obj);
    assert_eq!(
        code(render_png(&path, None, 0, None, None)),
        "unsupported_image"
    );
}

/// A colour image declaring more bits stored than allocated shifted each
/// sample by more than 64 bits (found by the dicom_index fuzz target).
#[test]
fn a_colour_image_storing_more_bits_than_it_allocates_is_refused() {
    use dicom_core::{DataElement, PrimitiveValue, VR};
    let dir = tempfile::tempdir().unwrap();
    let mut obj = rgb_object(&Spec::ct(1));
    let path = write_file(dir.path(), "rgb.dcm", &obj);
    render_png(&path, None, 0, None, None).expect("the sound colour image renders");
    for bits in [0u16, 9, 200] {
        obj.put(DataElement::new(
            dicom_dictionary_std::tags::BITS_STORED,
            VR::US,
            PrimitiveValue::from(bits),
        ));
        let path = write_file(dir.path(), &format!("rgb_{bits}.dcm"), &obj);
        assert_eq!(
            code(render_png(&path, None, 0, None, None)),
            "unsupported_image",
            "bits stored {bits}"
        );
    }
}
