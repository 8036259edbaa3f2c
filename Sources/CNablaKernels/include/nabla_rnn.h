#ifndef NABLA_RNN_H
#define NABLA_RNN_H
#include <stdint.h>

/* Fused LSTM cell kernels over `rows` batch rows of one time step (see rnn.c). Gates are laid out as PyTorch's
   (i, f, g, o) blocks of `hid` columns, so a row of gates is 4·hid wide. Every pointer must be valid (no NULLs).

   Forward: `gates` holds the pre-activations without bias; `bias` [4·hid] is added, and `gates` is overwritten
   with the activations σ(i), σ(f), tanh(g), σ(o). Writes c = σ(f)·cprev + σ(i)·tanh(g), tc = tanh(c) and
   h = σ(o)·tc (each [rows, hid], contiguous). */
void nabla_f32_lstm_fwd(float *gates, const float *bias, const float *cprev, float *c, float *tc, float *h,
                        int64_t rows, int64_t hid);
void nabla_f64_lstm_fwd(double *gates, const double *bias, const double *cprev, double *c, double *tc, double *h,
                        int64_t rows, int64_t hid);

/* Backward of the same step from the saved activations `act` [rows, 4·hid], `tc` and `cprev` [rows, hid]:
   dh = dhrec + gout (the gradient through the next step plus the gradient of this step's output); `dc` holds the
   gradient of c on entry and that of cprev (dc·σ(f)) on return. Writes the pre-activation gradients `dgates`
   [rows, 4·hid] and adds their column sums to `dbias` [4·hid]. */
void nabla_f32_lstm_bwd(const float *act, const float *tc, const float *cprev, const float *dhrec, const float *gout,
                        float *dc, float *dgates, float *dbias, int64_t rows, int64_t hid);
void nabla_f64_lstm_bwd(const double *act, const double *tc, const double *cprev, const double *dhrec,
                        const double *gout, double *dc, double *dgates, double *dbias, int64_t rows, int64_t hid);

/* Fused GRU step kernels over `rows` batch rows, with PyTorch's (r, z, n) gate blocks of `hid` columns.

   Forward: `gx` and `gh` [rows, 3·hid] hold x·W_ihᵀ and hprev·W_hhᵀ without biases; `bih`, `bhh` [3·hid].
   r = σ(gx_r + b_ir + gh_r + b_hr), z likewise, hn = gh_n + b_hn, n = tanh(gx_n + b_in + r·hn) and
   h = n + z·(hprev − n). Saves (r, z, n, hn) in `act` [rows, 4·hid]. */
void nabla_f32_gru_fwd(const float *gx, const float *gh, const float *bih, const float *bhh, const float *hprev,
                       float *act, float *h, int64_t rows, int64_t hid);
void nabla_f64_gru_fwd(const double *gx, const double *gh, const double *bih, const double *bhh, const double *hprev,
                       double *act, double *h, int64_t rows, int64_t hid);

/* Backward of the same step: dh = `dh` + `gout` on entry (the gradient through the next step plus this step's
   output's); `dh` holds dh·z on return (the direct part of hprev's gradient; the caller adds dgh·W_hh). Writes the
   pre-activation gradients of the input side `dgx` and of the hidden side `dgh` ([rows, 3·hid]; they differ in
   the n block, which is scaled by r on the hidden side) and adds their column sums to `dbih` and `dbhh`. */
void nabla_f32_gru_bwd(const float *act, const float *hprev, float *dh, const float *gout, float *dgx, float *dgh,
                       float *dbih, float *dbhh, int64_t rows, int64_t hid);
void nabla_f64_gru_bwd(const double *act, const double *hprev, double *dh, const double *gout, double *dgx,
                       double *dgh, double *dbih, double *dbhh, int64_t rows, int64_t hid);

/* Elman RNN step over `rows` rows of `hid`: h = tanh(g + bias), or max(g + bias, 0) when `relu`; `g` holds
   x·W_ihᵀ + hprev·W_hhᵀ and `bias` the sum of both biases. Backward from the step's output h: dg = (dhrec + gout)
   times the activation's derivative; its column sums are added to `dbias`. */
void nabla_f32_rnn_fwd(const float *g, const float *bias, float *h, int64_t rows, int64_t hid, int relu);
void nabla_f64_rnn_fwd(const double *g, const double *bias, double *h, int64_t rows, int64_t hid, int relu);
void nabla_f32_rnn_bwd(const float *h, const float *dhrec, const float *gout, float *dg, float *dbias, int64_t rows,
                       int64_t hid, int relu);
void nabla_f64_rnn_bwd(const double *h, const double *dhrec, const double *gout, double *dg, double *dbias,
                       int64_t rows, int64_t hid, int relu);

#endif
