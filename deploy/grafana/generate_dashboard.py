#!/usr/bin/env python3
# Generates deploy/grafana/vigil-dashboard.json (executive, engineering and drift rows; template
# variables for the seed 000 slices). Edit here, then: python3 deploy/grafana/generate_dashboard.py > deploy/grafana/vigil-dashboard.json
# tests/metrics/prometheus_scrape_test.cc runs every expression against a real Prometheus.
import json
SL = 'flow_type=~"$flow_type",platform=~"$platform",device_class=~"$device_class",browser_family=~"$browser_family",sdk_version=~"$sdk_version",app_version=~"$app_version",model_version=~"$model_version",policy_version=~"$policy_version"'
FP = 'flow_type=~"$flow_type",platform=~"$platform"'
F = 'flow_type=~"$flow_type"'
panels = []
y = 0
pid = 1
def row(title):
    global y, pid
    panels.append({"type": "row", "title": title, "id": pid, "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    pid += 1; y += 1
x = 0
def panel(title, targets, kind="timeseries", unit="short", w=8, h=8, desc="", thresholds=None, extra=None):
    global x, y, pid
    if x + w > 24:
        x = 0; y += h
    p = {"type": kind, "title": title, "id": pid, "datasource": {"type": "prometheus", "uid": "${datasource}"},
         "gridPos": {"h": h, "w": w, "x": x, "y": y}, "description": desc,
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "targets": [{"expr": e, "legendFormat": l, "refId": chr(65 + i),
                      "datasource": {"type": "prometheus", "uid": "${datasource}"}} for i, (e, l) in enumerate(targets)]}
    if thresholds:
        p["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": thresholds}
        p["fieldConfig"]["defaults"]["custom"] = {"thresholdsStyle": {"mode": "line"}} if kind == "timeseries" else {}
    if extra: p.update(extra)
    panels.append(p); pid += 1; x += w
def endrow():
    global x, y
    x = 0; y += 8

row("Executive")
panel("Pass rate", [(f'sum(rate(vigil_decisions_total{{{SL},outcome=~"pass|allow"}}[$__rate_interval])) / sum(rate(vigil_decisions_total{{{SL}}}[$__rate_interval]))', "pass rate")], "stat", "percentunit", 6,
      desc="Share of decisions that passed (liveness) or were allowed (transactions).")
panel("Retry rate vs 7-day baseline", [(f'sum by (flow_type, platform) (rate(vigil_retries_total{{{FP}}}[1h])) / sum by (flow_type, platform) (rate(vigil_decisions_total{{{FP}}}[1h]))', "{{flow_type}}/{{platform}} 1h"),
      (f'vigil:retry_rate:ratio_rate7d{{{FP}}}', "{{flow_type}}/{{platform}} 7d baseline")], unit="percentunit", w=6,
      desc="Alert VigilRetryRateAboveBaseline fires at 1.25x the baseline for 30 minutes.")
panel("Manual review rate", [(f'sum by (flow_type) (rate(vigil_manual_reviews_total{{{F}}}[$__rate_interval])) / sum by (flow_type) (rate(vigil_decisions_total{{{F}}}[$__rate_interval]))', "{{flow_type}}")], unit="percentunit", w=6)
panel("False-positive rate (labelled, 24h)", [('vigil:false_positive_rate:24h', "{{kind}} {{version_of}} {{version}}")], unit="percentunit", w=6,
      thresholds=[{"color": "green", "value": None}, {"color": "orange", "value": 0.12}, {"color": "red", "value": 0.15}],
      desc="Seed 004: warning over 12% for 5m, critical over 15% for 2m. From vigil_feedback_version_rate{rate=\"fpr\",window=\"24h\"} (feedback component), per model and policy version.")
endrow()
panel("Decisions by outcome", [(f'sum by (outcome) (rate(vigil_decisions_total{{{SL}}}[$__rate_interval]))', "{{outcome}}")], unit="reqps", w=8)
panel("Decisions by band", [(f'sum by (band) (rate(vigil_decisions_total{{{SL}}}[$__rate_interval]))', "{{band}}")], unit="reqps", w=8)
panel("Spoof-acceptance proxy by flow and country", [(f'sum by (flow_type, country) (rate(vigil_spoof_acceptance_proxy_total{{{F}}}[$__rate_interval]))', "{{flow_type}} {{country}}")], unit="reqps", w=8,
      desc="Passes that carried a security or attack reason, a true security flag, or a score outside the pass band.")
endrow()
panel("Session completion and abandonment", [(f'sum(rate(vigil_sessions_completed_total{{{F}}}[1h])) / sum(rate(vigil_sessions_started_total{{{F}}}[1h]))', "completion rate"),
      (f'sum(rate(vigil_sessions_abandoned_total{{{F}}}[1h])) / sum(rate(vigil_sessions_started_total{{{F}}}[1h]))', "abandonment rate")], unit="percentunit", w=12,
      desc="Liveness sessions: closed by a final outcome, or expired undecided.")
panel("Session token refusals", [('sum by (reason) (rate(vigil_session_token_refusals_total[$__rate_interval]))', "{{reason}}")], unit="reqps", w=12)
endrow()
row("Engineering")
panel("Decision latency p50 / p95 / p99", [(f'histogram_quantile({q}, sum by (le) (rate(vigil_decision_latency_seconds_bucket{{{F}}}[$__rate_interval])))', f"p{int(q*100)}") for q in (0.5, 0.95, 0.99)] +
      [(f'2 * vigil:decision_latency_seconds:p95_normal7d{{{F}}}', "alert line: 2x normal p95 ({{flow_type}})")], unit="s", w=8)
panel("Stage latency p95", [(f'histogram_quantile(0.95, sum by (stage, le) (rate(vigil_stage_latency_seconds_bucket{{{F}}}[$__rate_interval])))', "{{stage}}")], unit="s", w=8)
panel("Problem responses by type", [('sum by (type) (rate(vigil_problems_total[$__rate_interval]))', "{{type}}")], unit="reqps", w=8)
endrow()
panel("Capture failures by SDK version", [(f'sum by (platform, sdk_version) (rate(vigil_quality_rejections_total{{{FP},sdk_version=~"$sdk_version"}}[$__rate_interval])) / sum by (platform, sdk_version) (rate(vigil_decisions_total{{{FP},sdk_version=~"$sdk_version"}}[$__rate_interval]))', "{{platform}} {{sdk_version}}")], unit="percentunit", w=8)
panel("Quality rejections by reason", [(f'sum by (reason) (rate(vigil_quality_rejections_total{{{FP}}}[$__rate_interval]))', "{{reason}}")], unit="reqps", w=8)
panel("Security events by reason", [(f'sum by (reason) (rate(vigil_security_events_total{{{FP}}}[$__rate_interval]))', "{{reason}}"),
      (f'sum by (signal) (rate(vigil_security_signals_total{{{F}}}[$__rate_interval]))', "flag {{signal}}")], unit="reqps", w=8)
endrow()
panel("Process", [('vigil_uptime_seconds', "uptime"), ('rate(process_cpu_seconds_total{job=~".*vigil.*"}[$__rate_interval])', "cpu")], unit="short", w=8)
panel("Monitoring events written / dropped", [('rate(vigil_monitoring_events_total[$__rate_interval])', "written"), ('rate(vigil_monitoring_events_dropped_total[$__rate_interval])', "dropped")], unit="reqps", w=8)
panel("Series in the registry", [('vigil_metrics_series', "series")], unit="short", w=8, desc="Label values are bounded; this stays flat under random client versions.")
endrow()
panel("Audit log: fsync and wait for durability", [('rate(vigil_audit_sync_seconds_total[$__rate_interval]) / rate(vigil_audit_syncs_total[$__rate_interval])', "mean fsync"),
      ('histogram_quantile(0.99, sum by (le) (rate(vigil_audit_fsync_duration_seconds_bucket[$__rate_interval])))', "fsync p99"),
      ('histogram_quantile(0.99, sum by (le) (rate(vigil_audit_commit_duration_seconds_bucket[$__rate_interval])))', "group commit p99"),
      (f'histogram_quantile(0.99, sum by (le) (rate(vigil_stage_latency_seconds_bucket{{{F},stage="audit"}}[$__rate_interval])))', "audit stage p99")], unit="s", w=12,
      desc="Each decision is answered once its record is durable: a slow disk shows here before it shows in the decision latency. With synchronous=full every decision waits for one fsync, so the fsync p99 is a floor under the decisions' p99.")
panel("Audit log: records per group commit and queue", [('rate(vigil_audit_records_total[$__rate_interval]) / rate(vigil_audit_commit_groups_total[$__rate_interval])', "records per group"),
      ('vigil_audit_queue_depth', "queued records")], unit="short", w=12)
endrow()
panel("Data disk: free space and the audit log's size", [('vigil_data_dir_free_bytes', "free {{instance}}"), ('vigil_audit_log_bytes', "audit log {{instance}}")], unit="bytes", w=12,
      desc="Decisions stop (503, not ready) when the data disk is full; VigilDataDiskFillingUp and VigilDataDiskFillsSoon warn before.")
panel("Audit log: writable, failed commits", [('vigil_audit_writable', "writable {{instance}}"), ('rate(vigil_audit_commit_failures_total[$__rate_interval])', "failed commits/s {{instance}}")], unit="short", w=12,
      desc="0 = the log takes no writes (disk full, I/O errors): decisions fail with 503 and /readyz says not ready.")
endrow()
panel("HTTP connections and requests in flight", [('vigil_http_connections', "open {{instance}}"), ('vigil_http_max_connections', "limit {{instance}}"),
      ('vigil_http_requests_in_flight', "in flight {{instance}}")], unit="short", w=12,
      desc="At the limit the longest-idle keep-alive connections are closed to make room and new clients wait in the listen backlog.")
panel("HTTP: accept errors, limit reached, idle connections closed", [('rate(vigil_http_accept_errors_total[$__rate_interval])', "accept errors/s {{instance}}"),
      ('rate(vigil_http_connection_limit_reached_total[$__rate_interval])', "limit reached/s {{instance}}"),
      ('rate(vigil_http_idle_connections_closed_total[$__rate_interval])', "idle closed for room/s {{instance}}"),
      ('rate(vigil_http_read_timeouts_total[$__rate_interval])', "read timeouts/s {{instance}}")], unit="short", w=12,
      desc="Accept errors are mostly a process out of file descriptors (VigilAcceptFailing).")
endrow()
row("Drift")
panel("Fused score distribution", [(f'sum by (le) (increase(vigil_signal_score_bucket{{{F},signal="fusion",model_version=~"$model_version"}}[$__interval]))', "{{le}}")], "heatmap", "short", 12,
      extra={"options": {"calculate": False, "yAxis": {"unit": "short"}}})
panel("Mean score per signal: now vs 7 days", [(f'sum by (signal) (rate(vigil_signal_score_sum{{{F}}}[1h])) / sum by (signal) (rate(vigil_signal_score_count{{{F}}}[1h]))', "{{signal}} 1h"),
      (f'sum by (signal) (rate(vigil_signal_score_sum{{{F}}}[7d])) / sum by (signal) (rate(vigil_signal_score_count{{{F}}}[7d]))', "{{signal}} 7d")], unit="short", w=12)
endrow()
panel("Model disagreement: now vs 7 days", [(f'vigil:model_disagreement:mean1h{{{F}}}', "{{flow_type}} 1h"), (f'vigil:model_disagreement:mean7d{{{F}}}', "{{flow_type}} 7d")], unit="short", w=8)
panel("Platform mix", [(f'sum by (platform) (rate(vigil_decisions_total{{{F}}}[1h])) / scalar(sum(rate(vigil_decisions_total{{{F}}}[1h])))', "{{platform}}")], unit="percentunit", w=8)
panel("Browser and device mix", [(f'sum by (browser_family) (rate(vigil_decisions_total{{{F}}}[1h])) / scalar(sum(rate(vigil_decisions_total{{{F}}}[1h])))', "{{browser_family}}"),
      (f'sum by (device_class) (rate(vigil_decisions_total{{{F}}}[1h])) / scalar(sum(rate(vigil_decisions_total{{{F}}}[1h])))', "device {{device_class}}")], unit="percentunit", w=8)
endrow()

def var(name):
    return {"name": name, "label": name.replace("_", " "), "type": "query",
            "datasource": {"type": "prometheus", "uid": "${datasource}"},
            "query": {"query": f"label_values(vigil_decisions_total, {name})", "refId": name},
            "definition": f"label_values(vigil_decisions_total, {name})",
            "refresh": 2, "multi": True, "includeAll": True, "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]}, "sort": 1}
dash = {
  "title": "vigil: decisions, latency and drift",
  "uid": "vigil-overview",
  "description": "Executive, engineering and drift rows (seed 004); every panel sliced by the seed 000 slices. deploy/grafana/README in docs/metrics.md.",
  "tags": ["vigil"], "timezone": "utc", "schemaVersion": 38, "version": 1, "editable": True,
  "refresh": "30s", "time": {"from": "now-6h", "to": "now"},
  "annotations": {"list": [{"name": "Releases", "enable": True, "iconColor": "blue",
      "datasource": {"type": "prometheus", "uid": "${datasource}"},
      "expr": "changes(vigil_process_start_time_seconds[2m]) > 0", "titleFormat": "vigil restarted / released"}]},
  "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}] +
      [var(n) for n in ["flow_type", "platform", "device_class", "browser_family", "sdk_version", "app_version", "model_version", "policy_version"]]},
  "panels": panels,
}
print(json.dumps(dash, indent=2))
