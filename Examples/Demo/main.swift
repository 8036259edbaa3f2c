import Nabla
let x = Tensor([[1.0, 2], [3, 4]], requiresGrad: true)
let y = (x * x + x * 2.0).sum()
y.backward()
print(x.grad!)
let a = Tensor.randn([3, 4]), b = Tensor.randn([4, 5])
print(matmul(a, b).shape, a.t().isContiguous, a.t().contiguous().isContiguous)
print(Tensor([[1, 2], [3, 4]]))
let w = Tensor.randn([3], requiresGrad: true)
let z = (w * w).sum()
let g = gradients(of: [z], wrt: [w], createGraph: true)[0]!
let gg = gradients(of: [g.sum()], wrt: [w])[0]!
print(g, gg)
let (yy, t) = jvp({ $0[0] * $0[0] }, primals: [Tensor([1.0, 2, 3])], tangents: [Tensor([1.0, 1, 1])])
print(yy, t)
print(jacobian({ $0 * $0 }, at: Tensor([1.0, 2]), forwardMode: true))
print(hessian({ ($0 * $0 * $0).sum() }, at: Tensor([1.0, 2])))
