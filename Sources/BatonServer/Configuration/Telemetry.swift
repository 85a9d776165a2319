import Metrics
import Prometheus

/// Process-wide metrics.
public enum Telemetry {
    /// Makes every swift-metrics metric in the process report to a Prometheus registry, and
    /// returns the registry for `/metrics`. Call once, at start-up.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}
