/*
 * One item's packets through a channel setting, as the runner draws them,
 * and the cuts of them: the rule shared by `run` and `gallery`, so that a
 * gallery tile is the reconstruction the runner scored for that item, cut
 * and channel realisation.
 *
 * The item's generator is seeded from the cell's seed and the item's
 * position in the dataset (util_seed_mix), never from its place in a
 * thread's work, so any subset of items draws what the whole run drew.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/sim_impl.h"

/* Indices of the arrived packets by arrival time, ties by send order.
 * Insertion sort: arrivals come nearly in send order, so this is linear in
 * practice, and it is stable. Returns how many arrived. */
static size_t sort_arrivals(const chan_arrival *arr, size_t n, size_t *order)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!arr[i].arrived)
            continue;
        size_t j = k++;
        while (j > 0 && arr[order[j - 1]].t_arrive > arr[i].t_arrive) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    return k;
}

int sim_arrivals_draw(sim_arrivals *a, const chan *ch, uint64_t seed, size_t item,
                      const transport_tx *tx, util_err *err)
{
    size_t n = tx->n;
    if (n + 1 > a->cap) {
        size_t cap = (n + 1) * 2;
        chan_arrival *arr = realloc(a->arr, cap * sizeof *arr);
        if (arr)
            a->arr = arr;
        size_t *order = realloc(a->order, cap * sizeof *order);
        if (order)
            a->order = order;
        if (!arr || !order)
            return util_errf(err, "out of memory");
        a->cap = cap;
    }
    util_rng rng;
    util_rng_seed(&rng, util_seed_mix(seed, item));
    if (chan_transmit(ch, tx->len, tx->retry, n, &rng, a->arr, NULL, err))
        return -1;
    a->n = n;
    a->narrived = sort_arrivals(a->arr, n, a->order);
    return 0;
}

size_t sim_arrivals_cut(const sim_arrivals *a, const size_t *len, int is_budget,
                        double limit, double *t)
{
    size_t k = 0;
    if (!is_budget) {
        *t = limit;
        while (k < a->narrived && a->arr[a->order[k]].t_arrive <= limit)
            k++;
        return k;
    }
    double used = 0;
    while (k < a->narrived && used + (double)len[a->order[k]] <= limit)
        used += (double)len[a->order[k++]];
    *t = k ? a->arr[a->order[k - 1]].t_arrive : 0;
    return k;
}

void sim_arrivals_mask(const sim_arrivals *a, size_t k, uint8_t *mask)
{
    memset(mask, 0, a->n);
    for (size_t j = 0; j < k; j++)
        mask[a->order[j]] = 1;
}

void sim_arrivals_free(sim_arrivals *a)
{
    free(a->arr);
    free(a->order);
    *a = (sim_arrivals){0};
}
