// A restricted pickle reader (protocols 2-5, plus the protocol-0 opcodes PyTorch's legacy files use).
//
// It interprets the opcode stream as data only: GLOBAL/STACK_GLOBAL are checked against an allow-list
// at the moment they are read, and REDUCE/BUILD only ever "call" the handful of rebuild functions the
// caller recognises (`reduce`). Nothing is imported, looked up or executed, whatever the bytes.

/// A mutable list shared through the memo (APPEND on a memoised list changes every reference).
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// A mutable dict shared through the memo; keeps insertion order (Python dicts do).
final class PickleDict {
    private(set) var items: [(PickleValue, PickleValue)] = []
    private var index: [PickleKey: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        if let k = PickleKey(key), let i = index[k] { items[i].1 = value; return }
        if let k = PickleKey(key) { index[k] = items.count }
        items.append((key, value))
    }
}

/// A hashable dict key: strings, ints and bools (other keys are kept but not deduplicated).
enum PickleKey: Hashable {
    case string(String), int(Int)
    init?(_ v: PickleValue) {
        switch v {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .bool(let b): self = .int(b ? 1 : 0)
        default: return nil
        }
    }
}

/// One object on the unpickler's stack.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list(PickleList)
    case tuple([PickleValue])
    case dict(PickleDict)
    /// A global that passed the allow-list, as `module.name`.
    case global(String)
    /// Something the caller's `persistentLoad` or `reduce` built (a tensor, a storage).
    case opaque(AnyObject)
    /// The MARK sentinel.
    case mark

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .global(let g): return "global \(g)"
        case .opaque(let o): return String(describing: type(of: o))
        case .mark: return "MARK"
        }
    }
}

/// The restricted unpickler.
struct Unpickler {
    let bytes: [UInt8]
    let path: String
    /// Globals that may appear (`module.name`); any other throws `forbiddenGlobal`.
    let allowedGlobals: Set<String>
    /// Resolves a persistent id (BINPERSID); nil means the pickle may not use persistent ids.
    var persistentLoad: ((PickleValue) throws -> PickleValue)?
    /// Applies an allowed global to its arguments (REDUCE, NEWOBJ).
    var reduce: (_ global: String, _ args: [PickleValue]) throws -> PickleValue

    private var pos = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    init(bytes: [UInt8], path: String, allowedGlobals: Set<String>,
         persistentLoad: ((PickleValue) throws -> PickleValue)?,
         reduce: @escaping (_ global: String, _ args: [PickleValue]) throws -> PickleValue) {
        self.bytes = bytes
        self.path = path
        self.allowedGlobals = allowedGlobals
        self.persistentLoad = persistentLoad
        self.reduce = reduce
    }

    /// Byte offset just after the STOP opcode once `load` returned (legacy files hold several pickles in a row).
    var endOffset: Int { pos }

    private func fail(_ reason: String) -> UnpicklingError { .malformed(path: path, offset: pos, reason: reason) }

    private mutating func take(_ n: Int, _ what: String) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else { throw fail("\(what) needs \(n) bytes, only \(bytes.count - pos) left") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    private mutating func uint(_ n: Int, _ what: String) throws -> Int {
        let s = try take(n, what)
        var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        guard v <= UInt64(Int.max) else { throw fail("\(what) \(v) is too large") }
        return Int(v)
    }

    private mutating func line(_ what: String) throws -> String {
        guard let nl = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("\(what): no end of line") }
        let s = bytes[pos..<nl]
        pos = nl + 1
        guard let str = String(validating: s, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        return str
    }

    private mutating func utf8(_ n: Int, _ what: String) throws -> String {
        let s = try take(n, what)
        guard let str = String(validating: s, as: UTF8.self) else { throw fail("\(what) is not valid UTF-8") }
        return str
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow") }
        if case .mark = v { throw fail("unexpected MARK on the stack") }
        if let m = marks.last, m > stack.count { throw fail("stack underflow past a MARK") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no MARK to pop to") }
        guard m <= stack.count else { throw fail("MARK past the stack top") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func top() throws -> PickleValue {
        guard let v = stack.last, (marks.last ?? 0) < stack.count else { throw fail("stack underflow") }
        return v
    }

    private mutating func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = module + "." + name
        guard allowedGlobals.contains(full) else { throw UnpicklingError.forbiddenGlobal(path: path, name: full) }
        return .global(full)
    }

    private mutating func put(_ i: Int) throws { memo[i] = try top() }

    /// Throws when one of `values` contains `container` (a list or dict put into itself, directly or through other
    /// containers): checkpoints never hold such cycles, and the shared containers would never be freed.
    private func refuseCycle(_ values: [PickleValue], into container: AnyObject, _ op: String) throws {
        var seen = Set<ObjectIdentifier>()
        var work = values
        while let v = work.popLast() {
            let inner: AnyObject
            switch v {
            case .list(let l): inner = l
            case .dict(let d): inner = d
            case .tuple(let xs): work += xs; continue
            default: continue
            }
            if inner === container { throw fail("\(op) would put a list or dict inside itself (a self-referencing structure)") }
            guard seen.insert(ObjectIdentifier(inner)).inserted else { continue }
            if case .list(let l) = v { work += l.items }
            if case .dict(let d) = v { for (k, x) in d.items { work.append(k); work.append(x) } }
        }
    }

    /// Runs the opcode stream up to STOP and returns the object it builds.
    mutating func load() throws -> PickleValue {
        while true {
            let at = pos
            guard pos < bytes.count else { throw fail("the pickle ends before its STOP opcode") }
            let op = bytes[pos]
            pos += 1
            switch op {
            case 0x80: _ = try take(1, "PROTO")                               // PROTO
            case 0x95: _ = try take(8, "FRAME")                               // FRAME (frames are just hints)
            case 0x2E:                                                         // STOP
                let v = try pop()
                return v
            case 0x28: marks.append(stack.count)                              // MARK
            case 0x4E: stack.append(.none)                                    // NONE
            case 0x88: stack.append(.bool(true))                              // NEWTRUE
            case 0x89: stack.append(.bool(false))                             // NEWFALSE
            case 0x4B: stack.append(.int(try uint(1, "BININT1")))             // BININT1
            case 0x4D: stack.append(.int(try uint(2, "BININT2")))             // BININT2
            case 0x4A:                                                         // BININT (signed 32)
                let u = try uint(4, "BININT")
                stack.append(.int(Int(Int32(truncatingIfNeeded: u))))
            case 0x8A, 0x8B:                                                   // LONG1, LONG4
                let n = try (op == 0x8A ? uint(1, "LONG1 length") : uint(4, "LONG4 length"))
                let s = try take(n, "LONG")
                guard n <= 8 else {
                    // Python ints wider than 64 bits: accept only when they are sign extensions.
                    let head = s.prefix(8), rest = s.dropFirst(8)
                    let neg = (head.last ?? 0) & 0x80 != 0
                    guard rest.allSatisfy({ $0 == (neg ? 0xFF : 0) }) else { throw fail("integer of \(n) bytes does not fit in 64 bits") }
                    stack.append(.int(PickleValue.le(head)))
                    continue
                }
                stack.append(.int(PickleValue.le(s)))
            case 0x49:                                                         // INT (text)
                let l = try line("INT")
                if l == "00" { stack.append(.bool(false)) } else if l == "01" { stack.append(.bool(true)) }
                else { guard let v = Int(l) else { throw fail("INT '\(l)' is not an integer") }; stack.append(.int(v)) }
            case 0x4C:                                                         // LONG (text)
                var l = try line("LONG")
                if l.hasSuffix("L") { l.removeLast() }
                guard let v = Int(l) else { throw fail("LONG '\(l)' is not a 64-bit integer") }
                stack.append(.int(v))
            case 0x47:                                                         // BINFLOAT (big-endian)
                let s = try take(8, "BINFLOAT")
                var v: UInt64 = 0
                for b in s { v = v << 8 | UInt64(b) }
                stack.append(.double(Double(bitPattern: v)))
            case 0x46:                                                         // FLOAT (text)
                let l = try line("FLOAT")
                guard let v = Double(l) else { throw fail("FLOAT '\(l)' is not a number") }
                stack.append(.double(v))
            case 0x58: stack.append(.string(try utf8(try uint(4, "BINUNICODE length"), "BINUNICODE")))
            case 0x8C: stack.append(.string(try utf8(try uint(1, "SHORT_BINUNICODE length"), "SHORT_BINUNICODE")))
            case 0x8D: stack.append(.string(try utf8(try uint(8, "BINUNICODE8 length"), "BINUNICODE8")))
            case 0x56:                                                         // UNICODE (raw-unicode-escape line)
                stack.append(.string(try line("UNICODE")))
            case 0x43: stack.append(.bytes(Array(try take(try uint(1, "SHORT_BINBYTES length"), "SHORT_BINBYTES"))))
            case 0x42: stack.append(.bytes(Array(try take(try uint(4, "BINBYTES length"), "BINBYTES"))))
            case 0x8E: stack.append(.bytes(Array(try take(try uint(8, "BINBYTES8 length"), "BINBYTES8"))))
            case 0x55, 0x54:                                                   // SHORT_BINSTRING, BINSTRING (py2 str)
                let n = try (op == 0x55 ? uint(1, "SHORT_BINSTRING length") : uint(4, "BINSTRING length"))
                let s = try take(n, "BINSTRING")
                stack.append(.string(String(decoding: s, as: UTF8.self)))
            case 0x7D: stack.append(.dict(PickleDict()))                     // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))                     // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                              // EMPTY_TUPLE
            case 0x8F: stack.append(.list(PickleList()))                     // EMPTY_SET (read as a list)
            case 0x64:                                                         // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let d = PickleDict()
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
                stack.append(.dict(d))
            case 0x6C: stack.append(.list(PickleList(try popMark())))       // LIST
            case 0x74: stack.append(.tuple(try popMark()))                   // TUPLE
            case 0x85: let a = try pop(); stack.append(.tuple([a]))          // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x61:                                                         // APPEND
                let v = try pop()
                let t = try top()
                guard case .list(let l) = t else { throw fail("APPEND to a \(t.kind)") }
                try refuseCycle([v], into: l, "APPEND")
                l.items.append(v)
            case 0x65, 0x90:                                                   // APPENDS, ADDITEMS
                let items = try popMark()
                let t = try top()
                guard case .list(let l) = t else { throw fail("APPENDS to a \(t.kind)") }
                try refuseCycle(items, into: l, "APPENDS")
                l.items.append(contentsOf: items)
            case 0x73:                                                         // SETITEM
                let v = try pop(), k = try pop()
                let t = try top()
                guard case .dict(let d) = t else { throw fail("SETITEM on a \(t.kind)") }
                try refuseCycle([k, v], into: d, "SETITEM")
                d.set(k, v)
            case 0x75:                                                         // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                let t = try top()
                guard case .dict(let d) = t else { throw fail("SETITEMS on a \(t.kind)") }
                try refuseCycle(items, into: d, "SETITEMS")
                for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
            case 0x91: stack.append(.tuple(try popMark()))                   // FROZENSET (read as a tuple)
            case 0x30: _ = try pop()                                           // POP
            case 0x31: _ = try popMark()                                       // POP_MARK
            case 0x32: stack.append(try top())                                 // DUP
            case 0x71: try put(try uint(1, "BINPUT index"))                   // BINPUT
            case 0x72: try put(try uint(4, "LONG_BINPUT index"))              // LONG_BINPUT
            case 0x94: try put(memo.count)                                     // MEMOIZE
            case 0x70:                                                         // PUT (text)
                guard let i = Int(try line("PUT")) else { throw fail("PUT index is not an integer") }
                try put(i)
            case 0x68, 0x6A, 0x67:                                             // BINGET, LONG_BINGET, GET
                let i: Int
                if op == 0x67 { guard let v = Int(try line("GET")) else { throw fail("GET index is not an integer") }; i = v }
                else { i = try uint(op == 0x68 ? 1 : 4, "GET index") }
                guard let v = memo[i] else { throw fail("memo entry \(i) was never stored") }
                stack.append(v)
            case 0x63:                                                         // GLOBAL
                let module = try line("GLOBAL module"), name = try line("GLOBAL name")
                stack.append(try global(module, name))
            case 0x93:                                                         // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .string(let name) = n, case .string(let module) = m else { throw fail("STACK_GLOBAL needs two strings") }
                stack.append(try global(module, name))
            case 0x52, 0x81:                                                   // REDUCE, NEWOBJ
                let a = try pop(), f = try pop()
                guard case .global(let g) = f else { throw fail("\(op == 0x52 ? "REDUCE" : "NEWOBJ") calls a \(f.kind), not an allowed global") }
                guard case .tuple(let args) = a else { throw fail("\(g) is called with a \(a.kind), expected a tuple") }
                stack.append(try reduce(g, args))
            case 0x92:                                                         // NEWOBJ_EX
                _ = try pop()
                let a = try pop(), f = try pop()
                guard case .global(let g) = f, case .tuple(let args) = a else { throw fail("NEWOBJ_EX needs a global and a tuple") }
                stack.append(try reduce(g, args))
            case 0x62:                                                         // BUILD: state is ignored for dicts and tensors
                let state = try pop()
                let obj = try top()
                switch obj {
                case .dict, .opaque, .list: break
                default: throw fail("BUILD on a \(obj.kind) with state \(state.kind)")
                }
            case 0x51:                                                         // BINPERSID
                let pid = try pop()
                guard let persistentLoad else { throw UnpicklingError.unsupported(path: path, reason: "persistent id outside a PyTorch checkpoint") }
                stack.append(try persistentLoad(pid))
            case 0x50:                                                         // PERSID (text)
                let pid = try line("PERSID")
                guard let persistentLoad else { throw UnpicklingError.unsupported(path: path, reason: "persistent id outside a PyTorch checkpoint") }
                stack.append(try persistentLoad(.string(pid)))
            default:
                pos = at
                throw fail("unknown or unsupported opcode 0x" + String(op, radix: 16))
            }
        }
    }
}

extension PickleValue {
    /// A little-endian two's-complement integer of at most 8 bytes.
    static func le(_ s: ArraySlice<UInt8>) -> Int {
        guard !s.isEmpty else { return 0 }
        var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        if s.count < 8, (s.last! & 0x80) != 0 { v |= ~UInt64(0) << (8 * UInt64(s.count)) }
        return Int(Int64(bitPattern: v))
    }
}
