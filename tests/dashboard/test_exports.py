"""JSON and SARIF downloads, rebuilt from the stored scan exactly as the analyzer's CLI renders them."""

from __future__ import annotations

import json

from django.urls import reverse

from analyzer.formats import sarif
from dashboard.models import Finding, Scan, ScanStatus
from tests.dashboard.scandata import store_scan


def analyzer_json(report) -> dict:
    return json.loads(json.dumps(report.as_dict()))


def analyzer_sarif(report) -> dict:
    return sarif.sarif_log(report)


def download(client, name: str, scan):
    response = client.get(reverse(name, args=[scan.pk]))
    assert response.status_code == 200
    return response


def test_it_exports_the_analyzers_json(client, vic, project):
    scan, report = store_scan(project)
    client.force_login(vic)
    response = download(client, "scan_export_json", scan)
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="preflight-shop-scan-{scan.pk}.json"'
    assert json.loads(response.content) == analyzer_json(report)
    assert json.loads(response.content)["fix_all_patch"], "the sample has a patch to apply"


def test_it_exports_the_analyzers_sarif(client, vic, project):
    scan, report = store_scan(project)
    client.force_login(vic)
    response = download(client, "scan_export_sarif", scan)
    assert response["Content-Type"] == "application/sarif+json"
    assert response["Content-Disposition"].endswith(f'scan-{scan.pk}.sarif"')
    assert json.loads(response.content) == analyzer_sarif(report)


def test_it_keeps_suppressions_and_fingerprints(client, bob, project):
    scan, report = store_scan(project)
    Finding.objects.filter(scan=scan, rule="PF103").update(suppressed=True, suppression_reason="local only")
    client.force_login(bob)
    exported = json.loads(download(client, "scan_export_json", scan).content)
    dev_server = next(finding for finding in exported["findings"] if finding["rule"] == "PF103")
    assert (dev_server["suppressed"], dev_server["suppression_reason"]) == (True, "local only")
    assert [finding["fingerprint"] for finding in exported["findings"]] == [f.fingerprint for f in report.findings]
    results = json.loads(download(client, "scan_export_sarif", scan).content)["runs"][0]["results"]
    suppressed = [result for result in results if "suppressions" in result]
    assert [result["ruleId"] for result in suppressed] == ["PF103"]


def test_it_exports_a_reused_result_from_its_own_rows(client, bob, project):
    original, report = store_scan(project)
    reused = Scan.objects.create(
        project=project, status=ScanStatus.SUCCEEDED, report=original.report, reused_from=original, score=1
    )
    rows = list(Finding.objects.filter(scan=original))
    for row in rows:
        row.pk, row.scan = None, reused
    Finding.objects.bulk_create(rows)
    client.force_login(bob)
    assert json.loads(download(client, "scan_export_json", reused).content) == json.loads(json.dumps(report.as_dict()))


def test_it_has_nothing_to_export_for_an_unfinished_or_failed_scan(client, bob, project):
    client.force_login(bob)
    for status in (ScanStatus.QUEUED, ScanStatus.FAILED):
        Scan.objects.filter(project=project).delete()
        scan = Scan.objects.create(project=project, status=status)
        for name in ("scan_export_json", "scan_export_sarif"):
            assert client.get(reverse(name, args=[scan.pk])).status_code == 404


def test_it_hides_exports_from_a_stranger(client, charlie, project):
    scan, _ = store_scan(project)
    client.force_login(charlie)
    for name in ("scan_export_json", "scan_export_sarif"):
        assert client.get(reverse(name, args=[scan.pk])).status_code == 404
