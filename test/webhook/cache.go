package webhook

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
)

// CacheConfig turns on the model of the real webhook's service-account cache
// (amazon-eks-pod-identity-webhook pkg/cache/cache.go): an informer cache of
// every service account, and of the ConfigMap with Config.WatchConfigMap,
// which the webhook reads instead of the API server. A pod created before
// its service account, or the service account's role-arn annotation, has
// reached the cache is admitted as the cache has it: unmutated (webhook
// issues #174 and #264).
type CacheConfig struct {
	// Delay is how long after the API server announces a change (watch event)
	// the cache applies it: the propagation delay that the race needs. It
	// applies to every event, the initial list's too, in order.
	Delay time.Duration
	// LookupGracePeriod is --service-account-lookup-grace-period (main.go;
	// default 0, no waiting; the README's 100ms is wrong). When greater than
	// 0, a pod whose service account is not in the cache at all waits up to
	// this long while the webhook fetches the service account from the API
	// server (pkg/handler/handler.go buildPodPatchConfig,
	// pkg/cache/notifications.go). A service account that is in the cache
	// but stale (its annotation not there yet) is not waited for.
	LookupGracePeriod time.Duration
	// Namespaces, when not empty, limits the cache to pods in these
	// namespaces; pods elsewhere are judged from the API server as without a
	// cache. The real webhook has one cache for every namespace: this is a
	// test knob, so that one emulator shared by parallel scenarios races in
	// one scenario's namespace only.
	Namespaces []string
}

func (c *CacheConfig) covers(namespace string) bool {
	return c != nil && (len(c.Namespaces) == 0 || slices.Contains(c.Namespaces, namespace))
}

// informerCache holds what the webhook's informers have delivered, each
// event applied Delay after it arrived.
type informerCache struct {
	cfg    Config
	client kubernetes.Interface
	logf   func(format string, args ...any)

	ctx    context.Context // cancelled by close
	cancel context.CancelFunc
	events chan delayedEvent
	worker chan struct{} // closed when the event worker ends

	factories []informers.SharedInformerFactory

	mu    sync.Mutex
	sas   map[string]*corev1.ServiceAccount // by namespace/name
	roles ConfigMapRoles
	// waiters are the real cache's notifications: one channel per missing
	// service account, closed when it arrives; the API fetch is sent once,
	// when the channel is created (pkg/cache/notifications.go).
	waiters map[string]chan struct{}
}

type delayedEvent struct {
	due   time.Time
	apply func()
}

// startCache starts the informers and waits, within ctx, until they have
// listed; the initial objects still reach the cache only after the delay.
func startCache(ctx context.Context, client kubernetes.Interface, cfg Config, logf func(string, ...any)) (*informerCache, error) {
	if client == nil {
		return nil, errors.New("the webhook cache needs a client")
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c := &informerCache{
		cfg: cfg, client: client, logf: logf,
		ctx: cctx, cancel: cancel,
		events:  make(chan delayedEvent, 4096),
		worker:  make(chan struct{}),
		sas:     map[string]*corev1.ServiceAccount{},
		roles:   ConfigMapRoles{},
		waiters: map[string]chan struct{}{},
	}
	go c.run()

	saFactory := informers.NewSharedInformerFactory(client, 0)
	saInformer := saFactory.Core().V1().ServiceAccounts().Informer()
	if _, err := saInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.serviceAccountEvent(obj, false) },
		UpdateFunc: func(_, obj any) { c.serviceAccountEvent(obj, false) },
		DeleteFunc: func(obj any) { c.serviceAccountEvent(obj, true) },
	}); err != nil {
		c.close()
		return nil, fmt.Errorf("webhook cache: watch service accounts: %w", err)
	}
	c.factories = append(c.factories, saFactory)
	synced := []toolscache.InformerSynced{saInformer.HasSynced}

	if cfg.WatchConfigMap {
		// The real webhook watches the ConfigMaps of --namespace and keeps
		// the one named pod-identity-webhook (main.go, populateCacheFromCM).
		cmFactory := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(cfg.namespace()))
		cmInformer := cmFactory.Core().V1().ConfigMaps().Informer()
		if _, err := cmInformer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc: func(obj any) {
				if cm, ok := obj.(*corev1.ConfigMap); ok {
					c.later(func() { c.applyConfigMap(nil, cm) })
				}
			},
			UpdateFunc: func(oldObj, newObj any) {
				oldCM, ok1 := oldObj.(*corev1.ConfigMap)
				newCM, ok2 := newObj.(*corev1.ConfigMap)
				if ok1 && ok2 {
					c.later(func() { c.applyConfigMap(oldCM, newCM) })
				}
			},
			// No DeleteFunc, as in pkg/cache/cache.go: the roles of a deleted
			// ConfigMap stay until the webhook restarts.
		}); err != nil {
			c.close()
			return nil, fmt.Errorf("webhook cache: watch configmaps: %w", err)
		}
		c.factories = append(c.factories, cmFactory)
		synced = append(synced, cmInformer.HasSynced)
	}
	for _, f := range c.factories {
		f.Start(cctx.Done())
	}
	if !toolscache.WaitForCacheSync(ctx.Done(), synced...) {
		c.close()
		return nil, fmt.Errorf("webhook cache: informers did not sync: %w", context.Cause(ctx))
	}
	return c, nil
}

// close stops the informers, the event worker and pending fetches.
func (c *informerCache) close() {
	c.cancel()
	for _, f := range c.factories {
		f.Shutdown()
	}
	<-c.worker
}

func (c *informerCache) log(format string, args ...any) {
	if c.logf != nil {
		c.logf(format, args...)
	}
}

// later applies f Delay from now, after every event that came before it.
func (c *informerCache) later(f func()) {
	delay := time.Duration(0)
	if c.cfg.Cache != nil {
		delay = c.cfg.Cache.Delay
	}
	select {
	case c.events <- delayedEvent{due: time.Now().Add(delay), apply: f}:
	case <-c.ctx.Done():
	}
}

func (c *informerCache) run() {
	defer close(c.worker)
	for {
		select {
		case <-c.ctx.Done():
			return
		case e := <-c.events:
			if d := time.Until(e.due); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-c.ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
			}
			e.apply()
		}
	}
}

func (c *informerCache) serviceAccountEvent(obj any, deleted bool) {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	sa, ok := obj.(*corev1.ServiceAccount)
	if !ok {
		return
	}
	if deleted {
		c.later(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			delete(c.sas, sa.Namespace+"/"+sa.Name)
		})
		return
	}
	c.later(func() { c.setServiceAccount(sa) })
}

// setServiceAccount stores sa and wakes whoever waits for it
// (pkg/cache/cache.go setSA).
func (c *informerCache) setServiceAccount(sa *corev1.ServiceAccount) {
	key := sa.Namespace + "/" + sa.Name
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sas[key] = sa
	if ch, ok := c.waiters[key]; ok {
		close(ch)
		delete(c.waiters, key)
	}
}

// applyConfigMap is populateCacheFromCM: the new ConfigMap's entries are
// set; on an update, keys of the old one that the new one lacks are then
// removed. Invalid JSON in the new ConfigMap changes nothing; in the old one
// it keeps the old keys.
func (c *informerCache) applyConfigMap(oldCM, newCM *corev1.ConfigMap) {
	if newCM.Name != ConfigMapName {
		return
	}
	roles, skipped, err := ParseConfigMapRoles(newCM.Data[ConfigMapKey], c.cfg.tokenExpiration())
	if err != nil {
		c.log("webhook cache: %v", err)
		return
	}
	if len(skipped) > 0 {
		c.log("webhook cache: configmap %s/%s: skipped entries %q (the real webhook panics on them)", newCM.Namespace, newCM.Name, skipped)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maps.Copy(c.roles, roles)
	if oldCM == nil {
		return
	}
	old, _, err := ParseConfigMapRoles(oldCM.Data[ConfigMapKey], c.cfg.tokenExpiration())
	if err != nil {
		c.log("webhook cache: old %v", err)
		return
	}
	for key := range old {
		if _, ok := roles[key]; !ok {
			delete(c.roles, key)
		}
	}
}

// inputs is what the cache holds for a service account now.
func (c *informerCache) inputs(namespace, name string) Inputs {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := Inputs{ServiceAccount: c.sas[namespace+"/"+name]}
	if c.cfg.WatchConfigMap {
		in.ConfigMap = maps.Clone(c.roles)
	}
	return in
}

// waitForServiceAccount is the grace period: it asks the API server for the
// service account (once per missing key, as the real notifications do) and
// reports whether it reached the cache within grace.
func (c *informerCache) waitForServiceAccount(ctx context.Context, namespace, name string, grace time.Duration) bool {
	key := namespace + "/" + name
	c.mu.Lock()
	if _, ok := c.sas[key]; ok {
		c.mu.Unlock()
		return true
	}
	ch, ok := c.waiters[key]
	if !ok {
		ch = make(chan struct{})
		c.waiters[key] = ch
		go c.fetch(namespace, name)
	}
	c.mu.Unlock()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// fetch is fetchFromAPI: a GET with a one-second timeout whose result goes
// straight into the cache, without the informer's delay. The real webhook
// rate-limits these to 10 a second (burst 20); the emulator does not.
func (c *informerCache) fetch(namespace, name string) {
	ctx, cancel := context.WithTimeout(c.ctx, time.Second)
	defer cancel()
	sa, err := c.client.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		c.log("webhook cache: fetch service account %s/%s: %v", namespace, name, err)
		return
	}
	c.setServiceAccount(sa)
}
