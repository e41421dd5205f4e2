/* micrograd._kernels: the batched forward of a layer, summed in the workshop's order, in C,
   and two helpers of the batched fast path that numpy would do in several passes.

   linear_t(xt, W, b, zt, relu) sets zt[j, s] = ((0.0 + W[j,0]*x[s,0]) + W[j,1]*x[s,1]) + ...
   + b[j] (then ReLU) for every output j and sample s, where xt is x transposed (nin x samples,
   C-contiguous); W (nout x nin) and b (nout) are read in place, whatever their strides.

   Invariant: every zt[j, s] is bit for bit the per-sample neuron's sum (`fused._affine`): each
   output is its own chain of a rounded multiply then a rounded add, input by input, in order.
   The speed comes only from running many such chains side by side (several samples in one
   vector register, several outputs at once), never from reordering one chain. So this file is
   compiled with -ffp-contract=off (no fused multiply-add, which rounds once instead of twice)
   and never with -ffast-math (which may reorder sums and flush subnormals to zero). The tests
   check it against numpy's input-by-input sum and a Python loop (tests/test_kernels.py).

   relu_gate(g, r, out) is numpy's where(r <= 0.0, 0.0, g) in one pass; sum_of_squares(arrays)
   is sum(x * x) over the arrays' elements in order, as Python's sum adds them. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__GNUC__) && defined(__x86_64__) && !defined(__clang__)
/* One build runs well on every x86-64: gcc picks the widest vectors the CPU has at load time. */
#define WIDEST_VECTORS __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDEST_VECTORS
#endif

#define LANES 8 /* samples side by side */
#define ROWS 4  /* outputs side by side, so each input slice is loaded once for four outputs */

/* The activation after the sum, as `numeric.relu` does it: 0.0 where z <= 0 (so -0.0 too), z
   itself elsewhere (NaN passes through). */
#define ACTIVATE(z, relu) ((relu) && (z) <= 0.0 ? 0.0 : (z))

/* Inlined twice below with relu a constant, so neither loop tests it per element. */
static inline __attribute__((always_inline)) void
linear_packed(const double *xt, const double *wt, const double *b, double *zt, Py_ssize_t nin,
              Py_ssize_t samples, Py_ssize_t nout, int relu)
{
    Py_ssize_t s0 = 0;
    for (; s0 + LANES <= samples; s0 += LANES) {
        Py_ssize_t j = 0;
        for (; j + ROWS <= nout; j += ROWS) {
            double acc[ROWS][LANES] = {{0.0}};
            for (Py_ssize_t k = 0; k < nin; k++) {
                const double *x = xt + k * samples + s0;
                const double *w = wt + k * nout + j;
                for (int r = 0; r < ROWS; r++)
                    for (int v = 0; v < LANES; v++)
                        acc[r][v] = acc[r][v] + w[r] * x[v];
            }
            for (int r = 0; r < ROWS; r++)
                for (int v = 0; v < LANES; v++) {
                    const double z = acc[r][v] + b[j + r];
                    zt[(j + r) * samples + s0 + v] = ACTIVATE(z, relu);
                }
        }
        for (; j < nout; j++) {
            double acc[LANES] = {0.0};
            for (Py_ssize_t k = 0; k < nin; k++) {
                const double *x = xt + k * samples + s0;
                const double w = wt[k * nout + j];
                for (int v = 0; v < LANES; v++)
                    acc[v] = acc[v] + w * x[v];
            }
            for (int v = 0; v < LANES; v++) {
                const double z = acc[v] + b[j];
                zt[j * samples + s0 + v] = ACTIVATE(z, relu);
            }
        }
    }
    for (; s0 < samples; s0++) {
        for (Py_ssize_t j = 0; j < nout; j++) {
            double acc = 0.0;
            for (Py_ssize_t k = 0; k < nin; k++)
                acc = acc + wt[k * nout + j] * xt[k * samples + s0];
            const double z = acc + b[j];
            zt[j * samples + s0] = ACTIVATE(z, relu);
        }
    }
}

WIDEST_VECTORS
static void linear_plain(const double *xt, const double *wt, const double *b, double *zt,
                         Py_ssize_t nin, Py_ssize_t samples, Py_ssize_t nout)
{
    linear_packed(xt, wt, b, zt, nin, samples, nout, 0);
}

WIDEST_VECTORS
static void linear_relu(const double *xt, const double *wt, const double *b, double *zt,
                        Py_ssize_t nin, Py_ssize_t samples, Py_ssize_t nout)
{
    linear_packed(xt, wt, b, zt, nin, samples, nout, 1);
}

/* W (nout x nin, W[j, k] at w[j * wr + k * wc]: strides in elements) transposed into a new block,
   nin x nout in order, with room for `extra` more numbers after it; NULL if out of memory. The
   loops then read W in order, as a matrix library packs its operands: read in place, row by row,
   the forward loop was not vectorized and ran 3.7x slower. The caller frees it. */
static double *pack_transposed(const double *w, Py_ssize_t wr, Py_ssize_t wc, Py_ssize_t nin,
                               Py_ssize_t nout, Py_ssize_t extra)
{
    double *packed = PyMem_RawMalloc(sizeof(double) * (size_t)(nin * nout + extra + 1));
    if (packed != NULL)
        for (Py_ssize_t k = 0; k < nin; k++)
            for (Py_ssize_t j = 0; j < nout; j++)
                packed[k * nout + j] = w[j * wr + k * wc];
    return packed;
}

/* b[j] is b[j * bs]: a layer's (nout x nin+1) matrix is read in place, weights and bias columns
   alike, packed into one small block (W transposed, then b) for the loop above. */
static int linear_t(const double *xt, const double *w, Py_ssize_t wr, Py_ssize_t wc,
                    const double *b, Py_ssize_t bs, double *zt, Py_ssize_t nin,
                    Py_ssize_t samples, Py_ssize_t nout, int relu)
{
    double *packed = pack_transposed(w, wr, wc, nin, nout, nout);
    if (packed == NULL)
        return -1;
    double *bias = packed + nout * nin;
    for (Py_ssize_t j = 0; j < nout; j++)
        bias[j] = b[j * bs];
    (relu ? linear_relu : linear_plain)(xt, packed, bias, zt, nin, samples, nout);
    PyMem_RawFree(packed);
    return 0;
}

/* ReLU's backward gate, bit for bit numpy's where(r <= 0.0, 0.0, g): a choice, no arithmetic. */
WIDEST_VECTORS
static void relu_gate(const double *g, const double *r, double *out, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = r[i] <= 0.0 ? 0.0 : g[i];
}

/* A float64 buffer of `ndim` dimensions (C-contiguous if asked, else any strides that are whole
   elements), or an exception naming `what`. */
static int get_doubles(PyObject *obj, Py_buffer *view, int ndim, int flags, const char *fn,
                       const char *what)
{
    if (PyObject_GetBuffer(obj, view, flags | PyBUF_FORMAT) < 0)
        return -1;
    if ((ndim >= 0 && view->ndim != ndim) || view->itemsize != 8 || view->format == NULL ||
        strcmp(view->format, "d") != 0) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a %d-D float64 array, got %d-D format '%s'",
                     fn, what, ndim, view->ndim, view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    for (int d = 0; view->strides != NULL && d < view->ndim; d++)
        if (view->strides[d] % 8 != 0) {
            PyErr_Format(PyExc_ValueError, "%s: %s has a stride that is not whole elements", fn,
                         what);
            PyBuffer_Release(view);
            return -1;
        }
    return 0;
}

static PyObject *py_linear_t(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError,
                     "linear_t expects 5 arguments (xt, W, b, zt, relu), got %zd", nargs);
        return NULL;
    }
    int relu = PyObject_IsTrue(args[4]);
    if (relu < 0)
        return NULL;
    Py_buffer xt, w, b, zt;
    if (get_doubles(args[0], &xt, 2, PyBUF_C_CONTIGUOUS, "linear_t", "xt") < 0)
        return NULL;
    if (get_doubles(args[1], &w, 2, PyBUF_STRIDES, "linear_t", "W") < 0)
        goto release_x;
    if (get_doubles(args[2], &b, 1, PyBUF_STRIDES, "linear_t", "b") < 0)
        goto release_w;
    if (get_doubles(args[3], &zt, 2, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE, "linear_t", "zt") < 0)
        goto release_b;
    Py_ssize_t nin = xt.shape[0], samples = xt.shape[1], nout = w.shape[0];
    if (w.shape[1] != nin || b.shape[0] != nout || zt.shape[0] != nout || zt.shape[1] != samples) {
        PyErr_Format(PyExc_ValueError,
                     "linear_t: shapes do not fit: xt (%zd, %zd), W (%zd, %zd), b (%zd,), "
                     "zt (%zd, %zd); expected W (nout, nin), b (nout,), zt (nout, samples)",
                     xt.shape[0], xt.shape[1], w.shape[0], w.shape[1], b.shape[0], zt.shape[0],
                     zt.shape[1]);
        PyBuffer_Release(&zt);
        goto release_b;
    }
    int failed;
    Py_BEGIN_ALLOW_THREADS
    failed = linear_t(xt.buf, w.buf, w.strides[0] / 8, w.strides[1] / 8, b.buf, b.strides[0] / 8,
                      zt.buf, nin, samples, nout, relu);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&zt);
    PyBuffer_Release(&b);
    PyBuffer_Release(&w);
    PyBuffer_Release(&xt);
    if (failed)
        return PyErr_NoMemory();
    Py_RETURN_NONE;
release_b:
    PyBuffer_Release(&b);
release_w:
    PyBuffer_Release(&w);
release_x:
    PyBuffer_Release(&xt);
    return NULL;
}

static PyObject *py_relu_gate(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "relu_gate expects 3 arguments (g, r, out), got %zd", nargs);
        return NULL;
    }
    Py_buffer g, r, out;
    PyObject *result = NULL;
    if (get_doubles(args[0], &g, -1, PyBUF_ANY_CONTIGUOUS, "relu_gate", "g") < 0)
        return NULL;
    if (get_doubles(args[1], &r, -1, PyBUF_ANY_CONTIGUOUS, "relu_gate", "r") < 0)
        goto release_g;
    if (get_doubles(args[2], &out, -1, PyBUF_ANY_CONTIGUOUS | PyBUF_WRITABLE, "relu_gate",
                    "out") < 0)
        goto release_r;
    if (g.len != r.len || g.len != out.len) {
        PyErr_Format(PyExc_ValueError, "relu_gate: g, r and out differ in size: %zd, %zd, %zd",
                     g.len / 8, r.len / 8, out.len / 8);
    } else {
        relu_gate(g.buf, r.buf, out.buf, g.len / 8);
        result = Py_NewRef(Py_None);
    }
    PyBuffer_Release(&out);
release_r:
    PyBuffer_Release(&r);
release_g:
    PyBuffer_Release(&g);
    return result;
}

static PyObject *py_sum_of_squares(PyObject *Py_UNUSED(module), PyObject *arrays)
{
    PyObject *seq = PySequence_Fast(arrays, "sum_of_squares expects a sequence of arrays");
    if (seq == NULL)
        return NULL;
    double s = 0.0; /* sum(p * p for p in ...) starts from 0 too */
    Py_ssize_t count = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_buffer a;
        if (get_doubles(PySequence_Fast_GET_ITEM(seq, i), &a, -1, PyBUF_C_CONTIGUOUS,
                        "sum_of_squares", "each array") < 0) {
            Py_DECREF(seq);
            return NULL;
        }
        const double *x = a.buf;
        for (Py_ssize_t k = 0; k < a.len / 8; k++)
            s = s + x[k] * x[k];
        PyBuffer_Release(&a);
    }
    Py_DECREF(seq);
    return PyFloat_FromDouble(s);
}

/* The backward of a small layer, z = x @ W.T + b, from g = dL/dz, in one call where numpy takes
   three (two matrix products and a sum, each paying its call):
     G[j, k] = sum over s of gt[j, s] * xt[k, s]     the weights' gradient
     G[j, nin] = sum over s of gt[j, s]               the bias's
     dxt[k, s] = sum over j of W[j, k] * gt[j, s]     the input's
   gt (nout x S), xt and dxt (nin x S) and G (nout x nin+1) are C-contiguous; W[j, k] is
   w[j * wr + k * wc]. Each sum runs in a fixed order (so the same inputs give the same bits),
   not numpy's: the results agree with numpy's to rounding. Sums over samples keep LANES
   partial sums, added together at the end, so they run in vectors without reordering any one
   chain. */
/* LANES doubles as one value (GCC and clang vector extensions): the loops below say what runs
   side by side instead of hoping the compiler sees it. Loads and stores may be unaligned. */
typedef double lanes __attribute__((vector_size(LANES * sizeof(double))));

static inline __attribute__((always_inline)) lanes load(const double *p)
{
    lanes v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline __attribute__((always_inline)) void store(double *p, lanes v)
{
    memcpy(p, &v, sizeof v);
}

/* A sum over samples kept as LANES partial sums, added together at the end, then the tail. */
static inline __attribute__((always_inline)) double total(lanes acc)
{
    double t = 0.0;
    for (int v = 0; v < LANES; v++)
        t = t + acc[v];
    return t;
}

WIDEST_VECTORS
static int linear_backward(const double *gt, const double *xt, const double *w, Py_ssize_t wr,
                           Py_ssize_t wc, double *dxt, double *G, Py_ssize_t nin,
                           Py_ssize_t samples, Py_ssize_t nout)
{
    const Py_ssize_t S = samples, body = samples - samples % LANES;
    const lanes zero = {0.0};
    /* G[j, k]: four inputs k at once share each load of g */
    for (Py_ssize_t j = 0; j < nout; j++) {
        const double *g = gt + j * S;
        double *Gj = G + j * (nin + 1);
        Py_ssize_t k = 0;
        for (; k + ROWS <= nin; k += ROWS) {
            const double *x0 = xt + k * S, *x1 = x0 + S, *x2 = x1 + S, *x3 = x2 + S;
            lanes a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (Py_ssize_t s = 0; s < body; s += LANES) {
                const lanes gv = load(g + s);
                a0 = a0 + gv * load(x0 + s);
                a1 = a1 + gv * load(x1 + s);
                a2 = a2 + gv * load(x2 + s);
                a3 = a3 + gv * load(x3 + s);
            }
            double t0 = total(a0), t1 = total(a1), t2 = total(a2), t3 = total(a3);
            for (Py_ssize_t s = body; s < S; s++) {
                t0 = t0 + g[s] * x0[s];
                t1 = t1 + g[s] * x1[s];
                t2 = t2 + g[s] * x2[s];
                t3 = t3 + g[s] * x3[s];
            }
            Gj[k] = t0, Gj[k + 1] = t1, Gj[k + 2] = t2, Gj[k + 3] = t3;
        }
        for (; k <= nin; k++) { /* the last few inputs, then k == nin: the bias, a sum of g */
            const double *x = xt + k * S;
            lanes a = zero;
            for (Py_ssize_t s = 0; s < body; s += LANES)
                a = a + (k < nin ? load(g + s) * load(x + s) : load(g + s));
            double t = total(a);
            for (Py_ssize_t s = body; s < S; s++)
                t = t + (k < nin ? g[s] * x[s] : g[s]);
            Gj[k] = t;
        }
    }
    /* dxt[k, s]: from W packed transposed, as the forward reads it */
    double *wt = pack_transposed(w, wr, wc, nin, nout, 0);
    if (wt == NULL)
        return -1;
    Py_ssize_t k0 = 0;
    for (; k0 + ROWS <= nin; k0 += ROWS) {
        const double *w0 = wt + k0 * nout, *w1 = w0 + nout, *w2 = w1 + nout, *w3 = w2 + nout;
        for (Py_ssize_t s = 0; s < body; s += LANES) {
            lanes a0 = zero, a1 = zero, a2 = zero, a3 = zero;
            for (Py_ssize_t j = 0; j < nout; j++) {
                const lanes gv = load(gt + j * S + s);
                a0 = a0 + w0[j] * gv;
                a1 = a1 + w1[j] * gv;
                a2 = a2 + w2[j] * gv;
                a3 = a3 + w3[j] * gv;
            }
            store(dxt + k0 * S + s, a0);
            store(dxt + (k0 + 1) * S + s, a1);
            store(dxt + (k0 + 2) * S + s, a2);
            store(dxt + (k0 + 3) * S + s, a3);
        }
    }
    for (; k0 < nin; k0++) {
        const double *wk = wt + k0 * nout;
        for (Py_ssize_t s = 0; s < body; s += LANES) {
            lanes a = zero;
            for (Py_ssize_t j = 0; j < nout; j++)
                a = a + wk[j] * load(gt + j * S + s);
            store(dxt + k0 * S + s, a);
        }
    }
    for (Py_ssize_t k = 0; k < nin; k++)
        for (Py_ssize_t s = body; s < S; s++) {
            double a = 0.0;
            for (Py_ssize_t j = 0; j < nout; j++)
                a = a + wt[k * nout + j] * gt[j * S + s];
            dxt[k * S + s] = a;
        }
    PyMem_RawFree(wt);
    return 0;
}

static PyObject *py_linear_backward(PyObject *Py_UNUSED(module), PyObject *const *args,
                                    Py_ssize_t nargs)
{
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError,
                     "linear_backward expects 5 arguments (gt, xt, W, dxt, G), got %zd", nargs);
        return NULL;
    }
    const char *fn = "linear_backward";
    Py_buffer gt, xt, w, dxt, G;
    PyObject *result = NULL;
    if (get_doubles(args[0], &gt, 2, PyBUF_C_CONTIGUOUS, fn, "gt") < 0)
        return NULL;
    if (get_doubles(args[1], &xt, 2, PyBUF_C_CONTIGUOUS, fn, "xt") < 0)
        goto release_g;
    if (get_doubles(args[2], &w, 2, PyBUF_STRIDES, fn, "W") < 0)
        goto release_x;
    if (get_doubles(args[3], &dxt, 2, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE, fn, "dxt") < 0)
        goto release_w;
    if (get_doubles(args[4], &G, 2, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE, fn, "G") < 0)
        goto release_dx;
    Py_ssize_t nout = gt.shape[0], samples = gt.shape[1], nin = xt.shape[0];
    if (xt.shape[1] != samples || w.shape[0] != nout || w.shape[1] != nin ||
        dxt.shape[0] != nin || dxt.shape[1] != samples || G.shape[0] != nout ||
        G.shape[1] != nin + 1) {
        PyErr_Format(PyExc_ValueError,
                     "linear_backward: shapes do not fit: gt (%zd, %zd), xt (%zd, %zd), "
                     "W (%zd, %zd), dxt (%zd, %zd), G (%zd, %zd); expected xt and dxt (nin, "
                     "samples), W (nout, nin), G (nout, nin + 1)",
                     gt.shape[0], gt.shape[1], xt.shape[0], xt.shape[1], w.shape[0], w.shape[1],
                     dxt.shape[0], dxt.shape[1], G.shape[0], G.shape[1]);
    } else {
        int failed;
        Py_BEGIN_ALLOW_THREADS
        failed = linear_backward(gt.buf, xt.buf, w.buf, w.strides[0] / 8, w.strides[1] / 8,
                                 dxt.buf, G.buf, nin, samples, nout);
        Py_END_ALLOW_THREADS
        result = failed ? PyErr_NoMemory() : Py_NewRef(Py_None);
    }
    PyBuffer_Release(&G);
release_dx:
    PyBuffer_Release(&dxt);
release_w:
    PyBuffer_Release(&w);
release_x:
    PyBuffer_Release(&xt);
release_g:
    PyBuffer_Release(&gt);
    return result;
}

/* Batched training frees and allocates the same large arrays every step. glibc returns freed
   memory at the top of its heap to the system once more than about 1 MiB is free there, so each
   step would fault the pages in again (880 page faults, about 1.3 ms, on a 1,000-sample step
   at width 64). Serving arrays up to 32 MiB from the heap and trimming only past 64 MiB keeps
   them. It changes the whole process's malloc: at most 64 MiB of freed memory is kept. */
static PyObject *py_keep_freed_memory(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args))
{
#if defined(__GLIBC__)
    if (mallopt(M_MMAP_THRESHOLD, 32 << 20) && mallopt(M_TRIM_THRESHOLD, 64 << 20))
        Py_RETURN_TRUE;
#endif
    Py_RETURN_FALSE;
}

static PyMethodDef methods[] = {
    {"keep_freed_memory", py_keep_freed_memory, METH_NOARGS,
     "keep_freed_memory() -> bool: let glibc keep up to 64 MiB of freed memory for reuse."},
    {"linear_t", (PyCFunction)(void (*)(void))py_linear_t, METH_FASTCALL,
     "linear_t(xt, W, b, zt, relu): zt[j, s] = sum over k in order of W[j, k] * xt[k, s], then "
     "+ b[j], then ReLU if relu."},
    {"linear_backward", (PyCFunction)(void (*)(void))py_linear_backward, METH_FASTCALL,
     "linear_backward(gt, xt, W, dxt, G): a small layer's gradients (weights, bias, input)."},
    {"relu_gate", (PyCFunction)(void (*)(void))py_relu_gate, METH_FASTCALL,
     "relu_gate(g, r, out): out = where(r <= 0.0, 0.0, g), element by element in memory order."},
    {"sum_of_squares", py_sum_of_squares, METH_O,
     "sum_of_squares(arrays) -> float: s = s + x * x over every element, in order."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "micrograd._kernels",
    "The batched layer forward and helpers in C, bit for bit the plain way.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
