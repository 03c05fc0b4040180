//! What a user sees in the index of an upload.

use rtms_dicom::fixtures;

use fixtures::*;
use rtms_dicom::{index_path, is_dicom_prefix, Container, StudyIndex};

#[test]
fn single_file_index_shows_patient_study_series_and_instance() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "image.dcm", &ct_object(&Spec::ct(7)));

    let index = index_path(&path).unwrap();
    assert_eq!(index.container, Container::Single);
    assert!(index.skipped.is_empty());
    assert_eq!(index.studies.len(), 1);
    let study = &index.studies[0];
    assert_eq!(study.patient_name, "Иванов Пётр");
    assert_eq!(study.patient_id, PATIENT_ID);
    assert_eq!(study.patient_birth_date.as_deref(), Some("1980-01-02"));
    assert_eq!(study.patient_sex.as_deref(), Some("M"));
    assert_eq!(study.study_date.as_deref(), Some("2024-03-15"));
    assert_eq!(
        study.study_description.as_deref(),
        Some("КТ органов грудной клетки")
    );
    assert_eq!(study.study_instance_uid, STUDY_UID);
    assert_eq!(study.series.len(), 1);
    let series = &study.series[0];
    assert_eq!(series.series_instance_uid, SERIES_UID);
    assert_eq!(series.modality.as_deref(), Some("CT"));
    assert_eq!(series.number, Some(2));
    assert_eq!(series.description.as_deref(), Some("Chest 5mm"));
    assert_eq!(series.body_part.as_deref(), Some("CHEST"));
    assert_eq!(series.instances.len(), 1);
    let instance = &series.instances[0];
    assert_eq!(instance.sop_instance_uid, format!("{SERIES_UID}.7"));
    assert_eq!(instance.instance_number, Some(7));
    assert_eq!((instance.columns, instance.rows), (WIDTH, HEIGHT));
    assert_eq!(instance.frames, 1);
    assert_eq!(instance.entry, None);
    assert_eq!(instance.window, Some((40.0, 400.0)));
}

#[test]
fn dicom_prefix_detection() {
    let bytes = to_bytes(&ct_object(&Spec::ct(1)));
    assert!(is_dicom_prefix(&bytes));
    assert!(is_dicom_prefix(&bytes[..132]));
    assert!(!is_dicom_prefix(&bytes[..131]));
    assert!(!is_dicom_prefix(b"PK\x03\x04 not dicom"));
    assert!(!is_dicom_prefix(&[0u8; 200]));
}

/// A ZIP as a PACS export would give it: a directory, instances out of
/// order, a second (multi-frame) series, a report, and a stray text file.
fn study_zip(dir: &std::path::Path) -> std::path::PathBuf {
    let mut multi = Spec::ct(1);
    multi.series_uid = format!("{SERIES_UID}.900");
    multi.series_number = 1;
    multi.sop_uid = format!("{SERIES_UID}.900.1");
    multi.frames = 3;
    let mut report = Spec::ct(1);
    report.series_uid = format!("{SERIES_UID}.999");
    report.series_number = 99;
    report.sop_uid = format!("{SERIES_UID}.999.1");

    let path = dir.join("study.zip");
    write_zip(
        &path,
        &[
            ("DICOM/", Vec::new()),
            ("DICOM/IM0003", to_bytes(&ct_object(&Spec::ct(3)))),
            ("DICOM/IM0001", to_bytes(&ct_object(&Spec::ct(1)))),
            ("README.txt", b"Exported by a PACS viewer".to_vec()),
            ("DICOM/IM0002", to_bytes(&ct_object(&Spec::ct(2)))),
            ("DICOM/MF0001", to_bytes(&ct_object(&multi))),
            ("DICOM/SR0001", to_bytes(&report_object(&report))),
        ],
    );
    path
}

#[test]
fn zip_index_groups_sorts_and_skips_non_images() {
    let dir = tempfile::tempdir().unwrap();
    let path = study_zip(dir.path());

    let index = index_path(&path).unwrap();
    assert_eq!(index.container, Container::Zip);
    assert_eq!(index.studies.len(), 1);
    let study = &index.studies[0];
    assert_eq!(study.patient_name, "Иванов Пётр");
    assert_eq!(study.study_instance_uid, STUDY_UID);
    assert_eq!(index.instance_count(), 4);

    // Series are ordered by series number: the multi-frame one (1) first.
    let numbers: Vec<_> = study.series.iter().map(|s| s.number).collect();
    assert_eq!(numbers, vec![Some(1), Some(2)]);
    let multi = &study.series[0];
    assert_eq!(multi.instances.len(), 1);
    assert_eq!(multi.instances[0].frames, 3);

    let ct = &study.series[1];
    assert_eq!(ct.series_instance_uid, SERIES_UID);
    assert_eq!(ct.modality.as_deref(), Some("CT"));
    let order: Vec<_> = ct.instances.iter().map(|i| i.instance_number).collect();
    assert_eq!(order, vec![Some(1), Some(2), Some(3)]);
    let entries: Vec<_> = ct.instances.iter().map(|i| i.entry.as_deref()).collect();
    assert_eq!(
        entries,
        vec![
            Some("DICOM/IM0001"),
            Some("DICOM/IM0002"),
            Some("DICOM/IM0003")
        ]
    );

    // The text file and the report are listed with a reason; the directory is not.
    assert_eq!(index.skipped.len(), 2, "{:?}", index.skipped);
    assert!(index
        .skipped
        .iter()
        .any(|s| s.starts_with("README.txt:") && s.contains("not a DICOM")));
    assert!(index.skipped.iter().any(|s| s.starts_with("DICOM/SR0001:")));

    // The index travels as JSON to the web layer.
    let json = serde_json::to_string(&index).unwrap();
    assert!(json.contains("\"container\":\"zip\""));
    let back: StudyIndex = serde_json::from_str(&json).unwrap();
    assert_eq!(back, index);
}

#[test]
fn instances_without_numbers_are_ordered_by_slice_position() {
    let dir = tempfile::tempdir().unwrap();
    let specs: Vec<Spec> = [30.0, -10.0, 10.0]
        .into_iter()
        .enumerate()
        .map(|(i, z)| {
            let mut s = Spec::ct(i as i32 + 1);
            s.instance_number = None;
            s.z = z;
            s
        })
        .collect();
    let path = dir.path().join("slices.zip");
    let entries: Vec<(String, Vec<u8>)> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("s{i}.dcm"), to_bytes(&ct_object(s))))
        .collect();
    let entries: Vec<(&str, Vec<u8>)> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.clone()))
        .collect();
    write_zip(&path, &entries);

    let index = index_path(&path).unwrap();
    let order: Vec<_> = index.studies[0].series[0]
        .instances
        .iter()
        .map(|i| i.entry.clone().unwrap())
        .collect();
    assert_eq!(order, vec!["s1.dcm", "s2.dcm", "s0.dcm"]);
}

#[test]
fn duplicate_instances_in_a_zip_are_listed_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dup.zip");
    let bytes = to_bytes(&ct_object(&Spec::ct(1)));
    write_zip(&path, &[("a.dcm", bytes.clone()), ("copy/a.dcm", bytes)]);
    let index = index_path(&path).unwrap();
    assert_eq!(index.instance_count(), 1);
    assert_eq!(index.skipped, vec!["copy/a.dcm: duplicate instance"]);
}

#[test]
fn non_dicom_upload_is_rejected_with_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("scan.dcm");
    std::fs::write(&text, "this is not an image").unwrap();
    assert_eq!(index_path(&text).unwrap_err().code(), "not_dicom");

    let empty = dir.path().join("empty.dcm");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(index_path(&empty).unwrap_err().code(), "not_dicom");

    let missing = dir.path().join("missing.dcm");
    assert_eq!(index_path(&missing).unwrap_err().code(), "io");

    // A ZIP with nothing readable is not an error: everything is skipped.
    let zip = dir.path().join("docs.zip");
    write_zip(&zip, &[("a.txt", b"hello".to_vec())]);
    let index = index_path(&zip).unwrap();
    assert!(index.studies.is_empty());
    assert_eq!(index.skipped.len(), 1);
}

#[test]
fn single_report_without_image_has_no_pixel_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "sr.dcm", &report_object(&Spec::ct(1)));
    assert_eq!(index_path(&path).unwrap_err().code(), "no_pixel_data");
}

#[test]
fn indexing_stops_before_pixel_data() {
    // An entry whose pixel data is cut short still indexes (only the header
    // is read), while rendering it reports a problem instead of an image.
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = to_bytes(&ct_object(&Spec::ct(1)));
    bytes.truncate(bytes.len() - 1000);
    let path = dir.path().join("cut.zip");
    write_zip(&path, &[("cut.dcm", bytes)]);

    let index = index_path(&path).unwrap();
    assert_eq!(index.instance_count(), 1, "{:?}", index.skipped);
    let err = rtms_dicom::render_png(&path, Some("cut.dcm"), 0, None, None).unwrap_err();
    assert_eq!(err.code(), "truncated");
}
