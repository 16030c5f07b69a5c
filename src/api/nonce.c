/*
 * The replay cache: (AccessKeyId, nonce) pairs remembered for a time window.
 *
 * A chained hash table for lookups plus a FIFO of the same entries in insertion order, so
 * expired entries are pruned from the FIFO's head as requests come in (O(1) amortised per
 * check) and, when the table is full, the oldest entries go first. One mutex guards it all.
 */
#include "sign.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Bound on memory: past this many entries the oldest are dropped (~150 bytes each). */
#define NONCE_MAX_ENTRIES (1u << 20)
#define NONCE_MIN_BUCKETS 1024u

typedef struct nonce_entry {
    struct nonce_entry *hnext; /* hash chain */
    struct nonce_entry *qnext; /* FIFO, oldest first */
    uint64_t hash;
    time_t seen;
    size_t key_len;
    char key[]; /* akid '\0' nonce */
} nonce_entry;

struct mc_nonce_cache {
    pthread_mutex_t lock;
    int64_t window_s;
    uint64_t seed;
    nonce_entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    nonce_entry *head, *tail;
};

/* FNV-1a, seeded per cache (not a MAC: the keys come from requests that already verified). */
static uint64_t hash_key(uint64_t seed, const char *k, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)k[i];
        h *= 0x100000001b3ULL;
    }
    return h ^ (h >> 29);
}

int mc_nonce_cache_new(int64_t window_s, mc_nonce_cache **out)
{
    int rc = -ENOMEM;
    mc_nonce_cache *nc = NULL;
    if (window_s <= 0 || !out)
        return -EINVAL;
    nc = calloc(1, sizeof(*nc));
    if (!nc)
        goto fail;
    nc->buckets = calloc(NONCE_MIN_BUCKETS, sizeof(*nc->buckets));
    if (!nc->buckets)
        goto fail;
    nc->nbuckets = NONCE_MIN_BUCKETS;
    nc->window_s = window_s;
    nc->seed = (uint64_t)(uintptr_t)nc * 0x9e3779b97f4a7c15ULL ^ (uint64_t)time(NULL);
    if (pthread_mutex_init(&nc->lock, NULL) != 0) {
        rc = -EAGAIN;
        goto fail;
    }
    *out = nc;
    return 0;
fail:
    if (nc)
        free(nc->buckets);
    free(nc);
    return rc;
}

void mc_nonce_cache_free(mc_nonce_cache **pnc)
{
    if (!pnc || !*pnc)
        return;
    mc_nonce_cache *nc = *pnc;
    for (nonce_entry *e = nc->head, *next; e; e = next) {
        next = e->qnext;
        free(e);
    }
    free(nc->buckets);
    pthread_mutex_destroy(&nc->lock);
    free(nc);
    *pnc = NULL;
}

/* Remove the FIFO head from the table and free it. Lock held. */
static void drop_oldest(mc_nonce_cache *nc)
{
    nonce_entry *e = nc->head;
    nonce_entry **pp = &nc->buckets[e->hash & (nc->nbuckets - 1)];
    while (*pp && *pp != e)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = e->hnext;
    nc->head = e->qnext;
    if (!nc->head)
        nc->tail = NULL;
    nc->count--;
    free(e);
}

static bool expired(const mc_nonce_cache *nc, const nonce_entry *e, time_t now)
{
    return (int64_t)now - (int64_t)e->seen >= nc->window_s;
}

/* Double the bucket array when the load passes 1; keeps the old one on OOM. Lock held. */
static void maybe_grow(mc_nonce_cache *nc)
{
    if (nc->count < nc->nbuckets || nc->nbuckets >= NONCE_MAX_ENTRIES)
        return;
    size_t nb = nc->nbuckets * 2;
    nonce_entry **b = calloc(nb, sizeof(*b));
    if (!b)
        return;
    for (size_t i = 0; i < nc->nbuckets; i++) {
        for (nonce_entry *e = nc->buckets[i], *next; e; e = next) {
            next = e->hnext;
            e->hnext = b[e->hash & (nb - 1)];
            b[e->hash & (nb - 1)] = e;
        }
    }
    free(nc->buckets);
    nc->buckets = b;
    nc->nbuckets = nb;
}

int mc_nonce_cache_check(mc_nonce_cache *nc, const char *access_key_id, const char *nonce,
                         time_t now)
{
    int rc;
    if (!nc || !access_key_id || !nonce)
        return -EINVAL;
    size_t alen = strlen(access_key_id), nlen = strlen(nonce);
    size_t klen = alen + 1 + nlen;
    nonce_entry *fresh = malloc(sizeof(*fresh) + klen);
    if (!fresh)
        return -ENOMEM;
    memcpy(fresh->key, access_key_id, alen);
    fresh->key[alen] = '\0';
    memcpy(fresh->key + alen + 1, nonce, nlen);
    fresh->key_len = klen;
    fresh->seen = now;
    fresh->hnext = fresh->qnext = NULL;
    fresh->hash = 0;

    pthread_mutex_lock(&nc->lock);
    fresh->hash = hash_key(nc->seed, fresh->key, klen);
    while (nc->head && expired(nc, nc->head, now))
        drop_oldest(nc);

    nonce_entry *hit = nc->buckets[fresh->hash & (nc->nbuckets - 1)];
    while (hit && !(hit->hash == fresh->hash && hit->key_len == klen &&
                    memcmp(hit->key, fresh->key, klen) == 0))
        hit = hit->hnext;
    /* An entry out of time order (the clock stepped back) may still be in the table after
     * its window: it no longer counts. It stays until the FIFO reaches it. */
    if (hit && !expired(nc, hit, now)) {
        rc = 0;
        goto out;
    }
    if (hit)
        hit->key_len = 0; /* retire it: never matches again */
    while (nc->count >= NONCE_MAX_ENTRIES)
        drop_oldest(nc);
    size_t b = fresh->hash & (nc->nbuckets - 1);
    fresh->hnext = nc->buckets[b];
    nc->buckets[b] = fresh;
    if (nc->tail)
        nc->tail->qnext = fresh;
    else
        nc->head = fresh;
    nc->tail = fresh;
    nc->count++;
    fresh = NULL;
    maybe_grow(nc);
    rc = 1;
out:
    pthread_mutex_unlock(&nc->lock);
    free(fresh);
    return rc;
}
