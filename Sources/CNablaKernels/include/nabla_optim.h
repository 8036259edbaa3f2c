#ifndef NABLA_OPTIM_H
#define NABLA_OPTIM_H
#include <stdint.h>

/* Fused optimizer steps over contiguous buffers, one per optimizer and dtype (f32, f64).
   Each follows PyTorch's single-tensor update element by element, in PyTorch's arithmetic order,
   with floating-point contraction off (no FMA), so float64 results match PyTorch's formula exactly.
   Scalars arrive as double (computed like PyTorch's Python code) and are rounded to the element type. */

/* SGD: first != 0 initialises the momentum buffer with the (decayed) gradient. buf may be NULL when momentum == 0. */
void nabla_f32_sgd(float *p, const float *g, float *buf, int64_t n, double lr, double momentum,
                   double dampening_c, double weight_decay, int nesterov, int maximize, int first);
void nabla_f64_sgd(double *p, const double *g, double *buf, int64_t n, double lr, double momentum,
                   double dampening_c, double weight_decay, int nesterov, int maximize, int first);

/* Adam / AdamW: vmax may be NULL unless amsgrad. decay_c = 1 - lr * weight_decay (decoupled only). */
void nabla_f32_adam_step(float *p, const float *g, float *m, float *v, float *vmax, int64_t n,
                         double lerp_w, double beta2, double one_minus_beta2, double weight_decay,
                         int decoupled, double decay_c, double neg_step_size, double bc2_sqrt, double eps,
                         int amsgrad, int maximize);
void nabla_f64_adam_step(double *p, const double *g, double *m, double *v, double *vmax, int64_t n,
                         double lerp_w, double beta2, double one_minus_beta2, double weight_decay,
                         int decoupled, double decay_c, double neg_step_size, double bc2_sqrt, double eps,
                         int amsgrad, int maximize);

/* RMSprop: gavg may be NULL unless centered, buf NULL unless momentum > 0. */
void nabla_f32_rmsprop(float *p, const float *g, float *sq, float *gavg, float *buf, int64_t n,
                       double lr, double alpha, double one_minus_alpha, double eps, double weight_decay,
                       double momentum, int centered, int maximize);
void nabla_f64_rmsprop(double *p, const double *g, double *sq, double *gavg, double *buf, int64_t n,
                       double lr, double alpha, double one_minus_alpha, double eps, double weight_decay,
                       double momentum, int centered, int maximize);

/* Adagrad: clr = lr / (1 + (step - 1) * lr_decay). */
void nabla_f32_adagrad(float *p, const float *g, float *sum, int64_t n, double clr, double eps,
                       double weight_decay, int maximize);
void nabla_f64_adagrad(double *p, const double *g, double *sum, int64_t n, double clr, double eps,
                       double weight_decay, int maximize);

/* Adadelta. */
void nabla_f32_adadelta(float *p, const float *g, float *sq, float *acc, int64_t n, double lr, double rho,
                        double one_minus_rho, double eps, double weight_decay, int maximize);
void nabla_f64_adadelta(double *p, const double *g, double *sq, double *acc, int64_t n, double lr, double rho,
                        double one_minus_rho, double eps, double weight_decay, int maximize);

#endif
