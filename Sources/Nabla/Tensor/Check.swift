/// Stops the program with `message` when `condition` is false.
///
/// Unlike `precondition`, the message survives `-O` builds, so a user of a release build
/// sees which op failed and why (`"matmul: shapes [2, 3] and [4, 5] ..."`).
/// The message is an autoclosure: the happy path formats nothing.
@inline(__always)
public func check(_ condition: Bool, _ message: @autoclosure () -> String,
                  file: StaticString = #fileID, line: UInt = #line) {
    if _slowPath(!condition) { nablaFail(message(), file: file, line: line) }
}

/// Stops the program with a Nabla error message (kept in release builds).
@inline(never)
public func nablaFail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    if let running = GraphRunner.current?.runningDescription {
        fatalError("Nabla: " + message + " (" + running + ")", file: file, line: line)
    }
    fatalError("Nabla: " + message, file: file, line: line)
}
