// The seed documents' linear regression, y = 0.1 x + 0.3, fitted three ways: raw autograd with a hand-written
// update, a `Module` with an optimizer, and the same model trained with `SGD` + `StepLR` as a PyTorch user writes it.
//     swift run -c release linear-regression
import NablaOptim

manualSeed(0)
let x = Tensor.rand([100, 1])
let y = x * 0.1 + 0.3

// 1. Raw autograd: leaves with requiresGrad, backward, update under noGrad, zeroGrad.
let w = Tensor.randn([1, 1], requiresGrad: true), b = Tensor.zeros([1], requiresGrad: true)
for step in 0..<400 {
    let loss = ((matmul(x, w) + b - y) * (matmul(x, w) + b - y)).mean()
    loss.backward()
    noGrad {
        w.sub_(w.grad! * 0.5)
        b.sub_(b.grad! * 0.5)
    }
    w.zeroGrad(); b.zeroGrad()
    if step % 100 == 0 { print("raw autograd  step \(step)  loss \(loss.item())") }
}
print("raw autograd: w = \(w.item()), b = \(b.item())   (expected 0.1, 0.3)")

// 2. A Linear module, SGD with momentum and a step schedule.
let model = Linear(1, 1)
let opt = SGD(model.parameters(), lr: 0.5, momentum: 0.9)
let sched = StepLR(opt, stepSize: 100, gamma: 0.5)
for step in 0..<300 {
    let loss = mseLoss(model(x), y)
    opt.zeroGrad()
    loss.backward()
    opt.step()
    sched.step()
    if step % 100 == 0 { print("Linear + SGD  step \(step)  loss \(loss.item())  lr \(sched.getLastLr()[0])") }
}
print("Linear + SGD: w = \(model.weight.item()), b = \(model.bias!.item())")
