// Package deps pins the modules the project is being built on while the
// packages that import them are written; it is removed once they exist.
package deps

import (
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/config"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/eks"
	_ "github.com/aws/aws-sdk-go-v2/service/iam"
	_ "github.com/aws/aws-sdk-go-v2/service/sts"
	_ "github.com/aws/smithy-go"
	_ "github.com/spf13/cobra"
	_ "k8s.io/cli-runtime/pkg/genericclioptions"
	_ "k8s.io/cli-runtime/pkg/printers"
	_ "k8s.io/cli-runtime/pkg/resource"
	_ "k8s.io/client-go/kubernetes"
	_ "k8s.io/client-go/kubernetes/fake"
	_ "k8s.io/klog/v2"
	_ "k8s.io/kubectl/pkg/cmd/testing"
	_ "k8s.io/kubectl/pkg/polymorphichelpers"
	_ "k8s.io/kubectl/pkg/scheme"
	_ "k8s.io/kubectl/pkg/util/templates"
	_ "sigs.k8s.io/yaml"
)
