import RealModule

/// The inverse error function on [-1, 1]: Giles' single-precision approximation ("Approximating the erfinv
/// function", GPU Computing Gems, 2011) refined by Newton steps in double precision (on `erfc` in the tails) until they stop moving it.
/// `±1` gives `±∞`, and values outside [-1, 1] or NaN give NaN, as `torch.erfinv`.
func inverseErf(_ y: Double) -> Double {
    if y.isNaN || Swift.abs(y) > 1 { return .nan }
    if Swift.abs(y) == 1 { return y * .infinity }
    var w = -Double.log((1 - y) * (1 + y)), p: Double
    if w < 5 {
        w -= 2.5
        p = 2.81022636e-08
        for c in [3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087, -0.00125372503,
                  -0.00417768164, 0.246640727, 1.50140941] { p = c + p * w }
    } else {
        w = w.squareRoot() - 3
        p = -0.000200214257
        for c in [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                  0.00943887047, 1.00167406, 2.83297682] { p = c + p * w }
    }
    var x = p * y
    let t = Swift.abs(y)
    for _ in 0..<8 {
        let slope = 1.1283791670955125739 * Double.exp(-x * x)   // d erf / dx
        guard slope > 0 else { break }
        // In the tails erf(x) − y cancels; erfc(|x|) − (1 − |y|) keeps its relative precision.
        let step = t > 0.5 ? (x < 0 ? 1 : -1) * (Double.erfc(Swift.abs(x)) - (1 - t)) / slope : (Double.erf(x) - y) / slope
        x -= step
        if Swift.abs(step) <= 1e-15 * Swift.abs(x) { break }
    }
    return x
}
