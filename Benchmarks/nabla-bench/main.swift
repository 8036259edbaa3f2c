import Nabla
print("bench")
