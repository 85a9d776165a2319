/// Polls `condition` every 25 ms until it holds (true) or `timeout` passes (false): for
/// what another task or process brings about in its own time. The default bound is long:
/// when every test runs at once on two cores, a background task can take seconds per step,
/// and the bound only counts when the condition never comes.
public func waitFor(_ timeout: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(25))
    }
    return false
}
