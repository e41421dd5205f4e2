/* micrograd._kernels: the batched forward of a layer, summed in the workshop's order, in C.

   linear_t(xt, wt, b, zt) sets zt[j, s] = ((0.0 + W[j,0]*x[s,0]) + W[j,1]*x[s,1]) + ... + b[j]
   for every output j and sample s, where xt is x transposed (nin x samples) and wt is W
   transposed (nin x nout), all C-contiguous float64.

   Invariant: every zt[j, s] is bit for bit the per-sample neuron's sum (`fused._affine`): each
   output is its own chain of a rounded multiply then a rounded add, input by input, in order.
   The speed comes only from running many such chains side by side (several samples in one
   vector register, several outputs at once), never from reordering one chain. So this file is
   compiled with -ffp-contract=off (no fused multiply-add, which rounds once instead of twice)
   and never with -ffast-math (which may reorder sums and flush subnormals to zero). The tests
   check it against numpy's input-by-input sum and a Python loop (tests/test_kernels.py). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
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

WIDEST_VECTORS
static void linear_t(const double *xt, const double *wt, const double *b, double *zt,
                     Py_ssize_t nin, Py_ssize_t samples, Py_ssize_t nout)
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
                for (int v = 0; v < LANES; v++)
                    zt[(j + r) * samples + s0 + v] = acc[r][v] + b[j + r];
        }
        for (; j < nout; j++) {
            double acc[LANES] = {0.0};
            for (Py_ssize_t k = 0; k < nin; k++) {
                const double *x = xt + k * samples + s0;
                const double w = wt[k * nout + j];
                for (int v = 0; v < LANES; v++)
                    acc[v] = acc[v] + w * x[v];
            }
            for (int v = 0; v < LANES; v++)
                zt[j * samples + s0 + v] = acc[v] + b[j];
        }
    }
    for (; s0 < samples; s0++) {
        for (Py_ssize_t j = 0; j < nout; j++) {
            double acc = 0.0;
            for (Py_ssize_t k = 0; k < nin; k++)
                acc = acc + wt[k * nout + j] * xt[k * samples + s0];
            zt[j * samples + s0] = acc + b[j];
        }
    }
}

/* A C-contiguous float64 buffer of `ndim` dimensions, or an exception naming `what`. */
static int get_doubles(PyObject *obj, Py_buffer *view, int ndim, int writable, const char *what)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0)
        return -1;
    if (view->ndim != ndim || view->itemsize != 8 || view->format == NULL ||
        strcmp(view->format, "d") != 0) {
        PyErr_Format(PyExc_TypeError,
                     "linear_t: %s must be a C-contiguous %d-D float64 array, got %d-D format '%s'",
                     what, ndim, view->ndim, view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static PyObject *py_linear_t(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "linear_t expects 4 arguments (xt, wt, b, zt), got %zd",
                     nargs);
        return NULL;
    }
    Py_buffer xt, wt, b, zt;
    if (get_doubles(args[0], &xt, 2, 0, "xt") < 0)
        return NULL;
    if (get_doubles(args[1], &wt, 2, 0, "wt") < 0)
        goto release_x;
    if (get_doubles(args[2], &b, 1, 0, "b") < 0)
        goto release_w;
    if (get_doubles(args[3], &zt, 2, 1, "zt") < 0)
        goto release_b;
    Py_ssize_t nin = xt.shape[0], samples = xt.shape[1], nout = wt.shape[1];
    if (wt.shape[0] != nin || b.shape[0] != nout || zt.shape[0] != nout || zt.shape[1] != samples) {
        PyErr_Format(PyExc_ValueError,
                     "linear_t: shapes do not fit: xt (%zd, %zd), wt (%zd, %zd), b (%zd,), "
                     "zt (%zd, %zd); expected wt (nin, nout), b (nout,), zt (nout, samples)",
                     xt.shape[0], xt.shape[1], wt.shape[0], wt.shape[1], b.shape[0], zt.shape[0],
                     zt.shape[1]);
        PyBuffer_Release(&zt);
        goto release_b;
    }
    Py_BEGIN_ALLOW_THREADS
    linear_t(xt.buf, wt.buf, b.buf, zt.buf, nin, samples, nout);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&zt);
    PyBuffer_Release(&b);
    PyBuffer_Release(&wt);
    PyBuffer_Release(&xt);
    Py_RETURN_NONE;
release_b:
    PyBuffer_Release(&b);
release_w:
    PyBuffer_Release(&wt);
release_x:
    PyBuffer_Release(&xt);
    return NULL;
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
     "linear_t(xt, wt, b, zt): zt[j, s] = sum over k in order of wt[k, j] * xt[k, s], then + b[j]."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "micrograd._kernels",
    "The batched layer forward in C, bit for bit the per-sample sum.", -1, methods,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
