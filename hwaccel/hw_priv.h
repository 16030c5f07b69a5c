/* Helpers shared by the backends of hwaccel/ (not installed). */
#ifndef MC_HW_PRIV_H
#define MC_HW_PRIV_H

#include <stddef.h>

#include "mc_hwaccel.h"

#ifdef MC_HAVE_VAAPI
#include <va/va.h>
/* DRM render nodes ("renderD128"), sorted; with `drivers` (NULL-terminated kernel driver
 * names), only those nodes. Returns how many were written. */
int mc_hw_render_nodes(char (*names)[MC_HW_NAME_MAX], int max, const char *const *drivers);
/* The kernel driver behind a render node ("i915", "amdgpu"). */
int mc_hw_drm_driver(const char *node, char *out, size_t size);
/* OR each codec's decode/encode flags the display's VA profiles offer into codec_caps. */
void mc_hw_va_caps(VADisplay dpy, unsigned *codec_caps);
#endif

#endif
