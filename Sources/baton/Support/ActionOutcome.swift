import BatonAPI

/// Prints what an action did, or fails with the server's problem.
func report(_ result: (status: Int, done: Components.Responses.ActionDone?, problem: Components.Responses.Problem?), format: ConnectionOptions.OutputFormat) throws {
    if let problem = result.problem {
        throw Failure(status: result.status, problem: try problem.body.applicationProblemJson)
    }
    guard let done = try result.done?.body.json else { return }
    if format == .json {
        try printJSON(done)
        return
    }
    let what = done.events.isEmpty ? "nothing to change" : done.events.joined(separator: ", ")
    print("\(done.ticket.number) is \(done.ticket.status.rawValue)\(done.repeated ? " (already done)" : ""): \(what)")
}
