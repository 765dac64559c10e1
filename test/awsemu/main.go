//go:build unix

// Command awsemu runs the test-only stand-ins kubectl-irsa is demonstrated
// against, as processes on loopback, for hack/demo.sh:
//
//	awsemu serve   --state STATE.json --url-file FILE   the AWS emulator (test/fakeaws) holding STATE
//	awsemu cluster --dir DIR                            etcd + kube-apiserver + the pod identity webhook
//
// STATE holds the caller, OIDC providers, roles, EKS clusters and Pod
// Identity associations (serve.go); the webhook follows
// DIR/container-credentials.json for the service accounts that have an
// association, as the EKS control plane keeps the real webhook's file.
//
// Nothing here is part of the plugin; it exists so a newcomer can watch real
// kubectl and the real plugin diagnose a cluster without an AWS account.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("awsemu: ")
	if len(os.Args) < 2 {
		usage()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(ctx, os.Args[2:])
	case "cluster":
		err = cluster(ctx, os.Args[2:])
	default:
		usage()
	}
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		log.Printf("%v", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: awsemu serve --state FILE [--listen 127.0.0.1:0] [--url-file FILE]\n       awsemu cluster --dir DIR")
	os.Exit(2)
}
