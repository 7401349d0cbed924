r"""Jitted cores of the discrete optimizers: SGD, RMSprop (lagged or PyTorch ordering), Adam.

Spec ``models/adaptive.md`` §2.2 [paper] and §3 (``v_order``). With :math:`g_k=\nabla f(\theta_k)
+\Sigma^{1/2}(\theta_k)\xi_k`, :math:`\xi_k\sim N(0,I)`:

* SGD: :math:`\theta_{k+1}=\theta_k-\eta g_k`;
* RMSprop, lagged: :math:`\theta_{k+1}=\theta_k-\eta g_k/(\sqrt{v_k}+\epsilon)`,
  :math:`v_{k+1}=\beta_2v_k+(1-\beta_2)g_k^2`; PyTorch: the θ-step uses :math:`v_{k+1}`
  (``torch.optim.RMSprop``);
* Adam, lagged (authors): :math:`m_{k+1}=\beta_1m_k+(1-\beta_1)g_k` and
  :math:`\theta_{k+1}=\theta_k-\eta\frac{\sqrt{1-\beta_2^{k+1}}}{1-\beta_1^{k+2}}
  \frac{m_{k+1}}{\sqrt{v_k}+\epsilon\sqrt{1-\beta_2^{k+1}}}`; PyTorch: offsets k+1, k+1 and
  :math:`v_{k+1}` in the θ-step, written in ``torch.optim.Adam``'s operation order.

The noise of step k is :math:`\xi_k=\sum_{j<n_{sub}}\zeta_{k,j}/\sqrt{n_{sub}}` where
:math:`\zeta_{k,j}` are the normals of the SDE substeps of the same step: the chain and the
continuous equation are driven by the same Brownian path (spec §2.8, common random numbers).
The vectorized core is :func:`kernels.adaptive.core.chain_chunk`; this module names the codes.
"""

from __future__ import annotations

SGD, RMSPROP, ADAM = 0, 1, 2
OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSPROP, "adam": ADAM}
LAGGED, PYTORCH = 0, 1
V_ORDERS = {"lagged": LAGGED, "pytorch": PYTORCH}
